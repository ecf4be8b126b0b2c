/**
 * bench/e2e: request/response over loopback. Messages per second and p50/p99 latency at 200 B
 * and 4 KB payloads for wirebox (JSON and MessagePack) against plain @fastify/websocket with
 * JSON text frames, measured in the same run, as ratios; and the server's CPU time per request
 * against ws echoing the bytes it received without parsing them (the floor). The 4 KB floats family (full-precision
 * samples, which gzip shrinks by about a third) shows the compression default against none:
 * compression that does not pay is learnt and skipped. The server runs in a child process;
 * each row keeps a window of requests in flight on one connection for a fixed time.
 *
 * Run: npm run bench   (or: tsx bench/e2e.ts [--quick])
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { printTable } from './table.js'
import { MessageDecoder, MessageEncoder, MessageType, nodePlatform } from '../lib/index.js'
import type { WireSettings } from '../lib/index.js'

const quick = process.argv.includes('--quick')
const SECONDS = quick ? 1 : 3
const WINDOW = 16

function payloadOf (targetBytes: number): { items: Array<{ id: number, name: string, value: number, tags: string[] }> } {
  const items = []
  for (let i = 0; JSON.stringify({ items }).length < targetBytes; i++) {
    items.push({ id: i, name: `sensor-${i}`, value: Math.round(i * 1234.567) / 100, tags: ['ward-3', i % 2 === 0 ? 'ok' : 'check'] })
  }
  return { items }
}

/** About `count` full-precision floats: gzip saves about a third of their MessagePack bytes. */
function floatsOf (count: number): { sensor: string, samples: number[] } {
  let seed = 11
  const samples = Array.from({ length: count }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff * 200 - 100
  })
  return { sensor: 'ward-3/bed-7', samples }
}

interface Row { size: string, variant: string, perSecond: number, p50: number, p99: number, serverMicros: number }

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}

/** Runs one row: `send(id)` sends request `id`; `onMessage` must call `done(id)` per response. */
async function run (url: string, protocols: string[] | undefined, setup: (ws: WebSocket, done: (id: number) => void) => { send: (id: number) => void }): Promise<Omit<Row, 'size' | 'variant'>> {
  const ws = new WebSocket(url, protocols)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const started = new Map<number, number>()
  const latencies: number[] = []
  let next = 1
  let completed = 0
  let deadline = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const client = setup(ws, (id) => {
    const t0 = started.get(id)
    if (t0 === undefined) return
    started.delete(id)
    latencies.push(performance.now() - t0)
    completed++
    if (performance.now() < deadline) {
      const n = next++
      started.set(n, performance.now())
      client.send(n)
    } else if (started.size === 0) finish()
  })
  await new Promise((resolve) => setTimeout(resolve, 100)) // negotiation and warm-up
  deadline = performance.now() + SECONDS * 1000
  const cpu0 = await serverCpu()
  const t0 = performance.now()
  for (let i = 0; i < WINDOW; i++) {
    const n = next++
    started.set(n, performance.now())
    client.send(n)
  }
  await finished
  const elapsed = (performance.now() - t0) / 1000
  const cpu1 = await serverCpu()
  ws.terminate()
  latencies.sort((a, b) => a - b)
  const serverMicros = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / completed
  return { perSecond: completed / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), serverMicros }
}

/** The server process's CPU time so far. */
async function serverCpu (): Promise<NodeJS.CpuUsage> {
  const answer = new Promise<NodeJS.CpuUsage>((resolve) => child.once('message', (m) => resolve((m as { cpu: NodeJS.CpuUsage }).cpu)))
  child.send('cpu')
  return await answer
}

const child = fork(fileURLToPath(new URL('./e2e-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })))
const base = `ws://127.0.0.1:${port}`
const rows: Row[] = []

for (const [size, make, request] of [['200 B', () => payloadOf(200), 'echo'], ['4 KB', () => payloadOf(4096), 'echo'], ['4 KB floats', () => floatsOf(210), 'echo.floats']] as const) {
  const payload = make()
  const raw = await run(`${base}/raw`, undefined, (ws, done) => {
    ws.on('message', (data) => done((JSON.parse(data.toString()) as { id: number }).id))
    return { send: (id) => ws.send(JSON.stringify({ id, type: 'echo', payload })) }
  })
  rows.push({ size, variant: 'ws echoing the bytes, no parse (floor)', ...raw })
  const plain = await run(`${base}/plain`, undefined, (ws, done) => {
    ws.on('message', (data) => done((JSON.parse(data.toString()) as { id: number }).id))
    return { send: (id) => ws.send(JSON.stringify({ id, type: 'echo', payload })) }
  })
  rows.push({ size, variant: 'plain @fastify/websocket, JSON text (baseline)', ...plain })
  const variants: Array<[string, WireSettings]> = [
    ['wirebox JSON (gzip above 1 KB)', { encoding: 'json', version: 3, compression: 'gzip' }],
    ['wirebox MessagePack (gzip above 1 KB)', { encoding: 'messagepack', version: 3, compression: 'gzip' }],
    ['wirebox MessagePack, no compression', { encoding: 'messagepack', version: 3, compression: 'none' }]
  ]
  for (const [variant, settings] of variants) {
    const encoder = new MessageEncoder(settings, { platform: nodePlatform })
    const decoder = new MessageDecoder(settings, { platform: nodePlatform })
    const result = await run(`${base}/wirebox?encoding=${settings.encoding}&version=3&compression=${settings.compression}`, undefined, (ws, done) => {
      let chain = Promise.resolve()
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        chain = chain.then(async () => {
          const message = await decoder.decode(isBinary ? data : data.toString())
          if (message?.type === MessageType.RESPONSE && message.envelope?.id !== undefined) done(message.envelope.id)
        })
      })
      return {
        send: (id) => {
          encoder.encode({ type: MessageType.REQUEST, envelope: { event_type: request, timestamp: Date.now(), id, payload } })
            .then((frames) => { for (const frame of frames) ws.send(frame) }, (err: unknown) => { throw err })
        }
      }
    })
    rows.push({ size, variant, ...result })
  }
}
child.disconnect()

const baseline = new Map(rows.filter((r) => r.variant.startsWith('plain')).map((r) => [r.size, r]))
const floor = new Map(rows.filter((r) => r.variant.endsWith('(floor)')).map((r) => [r.size, r]))
const table = rows.map((r) => {
  const b = baseline.get(r.size) as Row
  const f = floor.get(r.size) as Row
  return [r.size, r.variant, r.perSecond.toFixed(0), (r.perSecond / b.perSecond).toFixed(2), r.p50.toFixed(2), (r.p50 / b.p50).toFixed(2), r.p99.toFixed(2), (r.p99 / b.p99).toFixed(2), r.serverMicros.toFixed(1), (r.serverMicros / f.serverMicros).toFixed(2)]
})
const header = ['payload', 'server', 'req/s', 'req/s vs plain', 'p50 ms', 'p50 vs plain', 'p99 ms', 'p99 vs plain', 'server CPU µs/req', 'vs floor']
console.log(`bench/e2e - node ${process.version}, loopback, server in a child process, one connection, ${WINDOW} requests in flight, ${SECONDS} s per row`)
console.log('server CPU: the server process\'s CPU time over the window per request, against ws echoing the bytes without parsing them (the floor), same run')
console.log('payload: an echo request of sensor items (id, name, value, tags) of about the stated JSON size; the response echoes it')
console.log()
printTable(header, table)
