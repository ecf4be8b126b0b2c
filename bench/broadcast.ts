/**
 * bench/broadcast: one publisher, 1,000 subscribed sockets over loopback, 1 KB, 4 KB and 64 KB
 * messages. Deliveries per second and bytes on the wire for wirebox encoding once per variant
 * (with and without gzip) against the same fan-out encoding per socket, and against ws with
 * permessage-deflate (JSON text, deflated per socket by ws), measured in the same run, as ratios.
 * Server CPU per delivery is set against the floor: plain ws sending the same MessagePack bytes,
 * encoded once, to every socket. The server's RSS before, during (peak) and after each run is
 * printed too.
 *
 * Run: npm run bench   (or: tsx bench/broadcast.ts [--quick])
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { WebSocketServer } from 'ws'
import type { WebSocket as WsSocket } from 'ws'
import wirebox, { defineProtocol, Flag, MessageEncoder, MessageType, nodePlatform } from '../lib/index.js'
import { printTable } from './table.js'
import type { WireboxConnection } from '../lib/index.js'

const quick = process.argv.includes('--quick')
const SOCKETS = quick ? 200 : 1000
const SIZES: Array<[string, number, number]> = [['1 KB', 1024, quick ? 20 : 100], ['4 KB', 4096, quick ? 10 : 50], ['64 KB', 65536, quick ? 3 : 10]]

const Row = Type.Object({ id: Type.Integer(), sensor: Type.String(), value: Type.Number(), unit: Type.String(), ok: Type.Boolean() })
const protocol = defineProtocol({ events: { feed: Type.Object({ rows: Type.Array(Row) }) } })

let seed = 7
const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
function payloadOf (bytes: number): { rows: Array<{ id: number, sensor: string, value: number, unit: string, ok: boolean }> } {
  const rows = []
  while (JSON.stringify({ rows }).length < bytes) rows.push({ id: rows.length, sensor: `bed-${rows.length % 40}`, value: Math.round(rand() * 10000) / 100, unit: rows.length % 2 === 0 ? 'bpm' : 'mmHg', ok: rand() > 0.1 })
  return { rows }
}

// Servers: wirebox on /ws (setup subscribes each connection to `feed`), plain ws with permessage-deflate.
const app = Fastify({ logger: false })
await app.register(wirebox, { heartbeatIntervalMs: 0, rateLimit: false, backpressure: { highWaterMark: 64 * 1024 * 1024, policy: 'drop' } })
app.wirebox('/ws', { protocol }, async (conn) => { await conn.subscribe('feed') })
await app.listen({ host: '127.0.0.1', port: 0 })
const wbPort = (app.server.address() as { port: number }).port
const deflateServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 1024 } })
await new Promise((resolve) => deflateServer.once('listening', resolve))
const wsPort = (deflateServer.address() as { port: number }).port
const plainServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
await new Promise((resolve) => plainServer.once('listening', resolve))
const plainPort = (plainServer.address() as { port: number }).port
const floorEncoder = new MessageEncoder({ encoding: 'messagepack', version: 3, compression: 'none' }, { platform: nodePlatform })

interface Result { size: string, variant: string, deliveriesPerSecond: number, wireBytesPerMessage: number, cpuPerDelivery: number, rssBefore: number, rssPeak: number, rssAfter: number }
const results: Result[] = []
const mb = (n: number): string => (n / 1024 / 1024).toFixed(0)

async function clients (url: string, deflate: boolean): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('./broadcast-clients.ts', import.meta.url)), [url, String(SOCKETS), deflate ? 'deflate' : 'no'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  await new Promise<void>((resolve) => child.on('message', (m: { ready?: boolean }) => { if (m.ready === true) resolve() }))
  return child
}

/** Bytes written so far by the server side of every socket (WebSocket framing included). */
function written (sockets: Iterable<{ _socket?: { bytesWritten: number } }>): number {
  let sum = 0
  for (const s of sockets) sum += s._socket?.bytesWritten ?? 0
  return sum
}

async function run (size: string, variant: string, child: ChildProcess, count: number, serverSockets: () => Iterable<{ _socket?: { bytesWritten: number } }>, publishOne: () => Promise<unknown>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200))
  await new Promise<void>((resolve) => {
    child.once('message', () => resolve())
    child.send({ count })
  })
  const rssBefore = process.memoryUsage().rss
  let rssPeak = rssBefore
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss) }, 20)
  const bytesBefore = written(serverSockets())
  const done = new Promise<void>((resolve) => child.once('message', () => resolve()))
  const start = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < count; i++) await publishOne()
  await done
  const used = process.cpuUsage(cpu)
  const seconds = (performance.now() - start) / 1000
  clearInterval(sampler)
  const bytes = written(serverSockets()) - bytesBefore
  globalThis.gc?.()
  results.push({ size, variant, deliveriesPerSecond: (SOCKETS * count) / seconds, wireBytesPerMessage: bytes / (SOCKETS * count), cpuPerDelivery: (used.user + used.system) / (SOCKETS * count), rssBefore, rssPeak, rssAfter: process.memoryUsage().rss })
}

const variants = ['wirebox MessagePack, encode once, no compression', 'wirebox MessagePack, encode once, gzip', 'wirebox MessagePack + gzip, encode per socket (baseline)', 'ws permessage-deflate, JSON text',
  'wirebox msgpack-compact, encode once, no compression', 'wirebox msgpack-compact, encode once, gzip', 'ws, the same MessagePack bytes encoded once (floor)']
const wireboxSockets = (): Array<{ _socket?: { bytesWritten: number } }> => [...app.wirebox.connections].map((c) => c.socket as unknown as { _socket?: { bytesWritten: number } })

/** Every fan-out of one message size, in order. */
async function measure (size: string, bytes: number, count: number): Promise<void> {
  // A new message each time (as a stream is): repeated identical messages would flatter
  // permessage-deflate, whose context remembers the previous ones.
  const payloads = Array.from({ length: count }, () => payloadOf(bytes))
  const texts = payloads.map((payload) => JSON.stringify({ type: 1, event_type: 'feed', timestamp: Date.now(), payload }))
  // encode once, no compression; then gzip (clients negotiate it); then per socket with gzip
  for (const [variant, compression, encoding] of [[variants[0], 'none', 'messagepack'], [variants[1], 'gzip', 'messagepack'], [variants[4], 'none', 'msgpack-compact'], [variants[5], 'gzip', 'msgpack-compact'], [variants[2], 'gzip', 'messagepack']] as const) {
    const child = await clients(`ws://127.0.0.1:${wbPort}/ws?encoding=${encoding}&compression=${compression}`, false)
    while (app.wirebox.subscriberCount('feed') < SOCKETS) await new Promise((resolve) => setTimeout(resolve, 10))
    const perSocket = variant === variants[2]
    let n = 0
    await run(size, variant as string, child, count, wireboxSockets, async () => {
      const payload = payloads[n++ % count]
      return perSocket
        ? await Promise.all([...app.wirebox.connections].map(async (c) => await (c as unknown as WireboxConnection<typeof protocol>).send('feed', payload as never)))
        : await app.wirebox.publish('feed', 'feed', payload)
    })
    child.send({ close: true })
    while (app.wirebox.connections.size > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const floor = await clients(`ws://127.0.0.1:${plainPort}`, false)
  let f = 0
  await run(size, variants[6] as string, floor, count, () => plainServer.clients as unknown as Set<{ _socket?: { bytesWritten: number } }>, async () => {
    const envelope = { event_type: 'feed', timestamp: Date.now(), topic: 'feed', seq: ++f, payload: payloads[(f - 1) % count] }
    const frame = (await floorEncoder.encodeMessage({ type: MessageType.EVENT, flags: Flag.BROADCAST, envelope })).frames[0] as Uint8Array
    for (const socket of plainServer.clients) socket.send(frame)
  })
  floor.send({ close: true })
  while (plainServer.clients.size > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  const child = await clients(`ws://127.0.0.1:${wsPort}`, true)
  let m = 0
  await run(size, variants[3] as string, child, count, () => deflateServer.clients as unknown as Set<{ _socket?: { bytesWritten: number } }>, async () => {
    const text = texts[m++ % count] as string
    await Promise.all([...deflateServer.clients].map(async (socket: WsSocket) => await new Promise((resolve) => socket.send(text, resolve))))
  })
  child.send({ close: true })
  while (deflateServer.clients.size > 0) await new Promise((resolve) => setTimeout(resolve, 10))
}

// A discarded first pass at the smallest size: the first rows measured must not pay for warming
// up the code (JIT) that the later rows find ready.
await measure(...(SIZES[0] as [string, number, number]))
results.length = 0
for (const [size, bytes, count] of SIZES) await measure(size, bytes, count)
await app.close()
deflateServer.close()
plainServer.close()

const table = results.map((r) => {
  const base = results.find((b) => b.size === r.size && b.variant === variants[2]) as Result
  const floor = results.find((b) => b.size === r.size && b.variant === variants[6]) as Result
  return [r.size, r.variant, r.deliveriesPerSecond.toFixed(0), (r.deliveriesPerSecond / base.deliveriesPerSecond).toFixed(2), r.wireBytesPerMessage.toFixed(0), (r.wireBytesPerMessage / base.wireBytesPerMessage).toFixed(2), r.cpuPerDelivery.toFixed(2), (r.cpuPerDelivery / floor.cpuPerDelivery).toFixed(2), `${mb(r.rssBefore)} / ${mb(r.rssPeak)} / ${mb(r.rssAfter)}`]
})
const header = ['message', 'fan-out', 'deliveries/s', 'vs per-socket', 'wire bytes/delivery', 'vs per-socket', 'server CPU µs/delivery', 'vs ws floor', 'RSS MB before/peak/after']
console.log(`bench/broadcast - node ${process.version}, ${SOCKETS} sockets over loopback (clients in a child process), messages of sensor rows (${SIZES.map(([s, , n]) => `${n} x ${s}`).join(', ')}); baseline: wirebox encoding per socket, same run`)
console.log()
printTable(header, table)
