/**
 * bench/soak (issue 8): the ECG example under a few minutes of mixed, partly hostile load.
 * The server runs in a child process (a crash is seen as the child exiting; its RSS is read from
 * /proc/<pid>/status); the load runs in another (bench/soak/load.ts): subscribers that check
 * every (topic, seq), slow readers that stop reading for long stretches, clients with large
 * ecg.history requests in flight that they do not read, and hostile clients (bench/soak/attacks.ts).
 * A bystander in this process PINGs every 50 ms and records the round trips. At the end: a table
 * (and a JSON line) of RSS, bystander latency, messages received / lost / notified as gaps /
 * duplicated, crashes, refusals and closes by code. After a crash, the attacks sent in the 3 s
 * before it are replayed one by one against a fresh server, to name the ones that kill it. Exit
 * code 1 when the server crashed or a message was lost without a gap notice. Not part of
 * `npm test`.
 *
 * Run: npm run soak [-- --quick] [-- --restart] (tsx bench/soak.ts --help for every flag)
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MessageType } from '../lib/index.js'
import { printTable } from './table.js'
import { addCounts, seqCounts } from './soak/accounting.js'
import type { SeqCounts } from './soak/accounting.js'
import { ATTACKS } from './soak/attacks.js'
import { ROLES, own, tally as emptyTally } from './soak/ipc.js'
import type { FromLoad, LoadConfig, LoadStats, Role, ToLoad } from './soak/ipc.js'
import { Peer } from './soak/peer.js'

const USAGE = `usage: tsx bench/soak.ts [options]
  --quick                 200 connections for 20 s (develop with this)
  --connections N         load connections (default 2000; the bystander comes on top)
  --duration T            load time: 180, 90s, 3m (default 3m)
  --settle T              wait after the load before the "after" RSS (default 30s)
  --restart               restart the server after a crash and go on (default: stop and report)
  --mix slow=F,large=F,hostile=F   fractions of the connections (default slow=0.1,large=0.001,hostile=0.05,
                          at least 1 each; the rest subscribe and read normally)
  --patients N            patient topics ecg/p1..pN (default 8)
  --samples N             largest ecg.history of the large clients (default 1000000)
  --in-flight N           ecg.history requests a large client leaves unread (default 10: ~9 MB pending,
                          past the back-pressure high-water mark and the kernel's buffers)
  --pause A-B             seconds slow and large clients stop reading (default 10-45)
  --resume-every A-B      seconds between a subscriber's reconnections with since (default 60-150; quick 8-15)
  --attacks a,b           attacks to use (default all); --skip-attacks a,b to leave some out
  --chunk-bytes N         data of each unfinished chunk (default 1048576)
  --many-subs N           SUBSCRIBEs per many-subscriptions burst (default 100)
  --quiet-server          the server's logger off (default: on, as npm start has it; its output is counted)
  --skip-replay           after crashes, do not replay their suspects alone to find the killers
  --seed N                the mix's random seed (default 1)
SOAK_DEBUG=1 in the environment prints a crashed server's whole stderr and the load's ramp-up.
attacks: ${ATTACKS.map((a) => a.name).join(', ')}`

// ---- options -----------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    connections: { type: 'string' },
    duration: { type: 'string' },
    settle: { type: 'string', default: '30' },
    restart: { type: 'boolean', default: false },
    mix: { type: 'string', default: '' },
    patients: { type: 'string', default: '8' },
    samples: { type: 'string', default: '1000000' },
    'in-flight': { type: 'string', default: '10' },
    pause: { type: 'string', default: '10-45' },
    'resume-every': { type: 'string' },
    attacks: { type: 'string' },
    'skip-attacks': { type: 'string', default: '' },
    'chunk-bytes': { type: 'string', default: String(1024 * 1024) },
    'many-subs': { type: 'string', default: '100' },
    'quiet-server': { type: 'boolean', default: false },
    'skip-replay': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false }
  }
})
if (flags.help) {
  console.log(USAGE)
  process.exit(0)
}

function usage (message: string): never {
  console.error(`bench/soak: ${message}\n${USAGE}`)
  process.exit(2)
}
function int (name: string, text: string, min = 0): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) usage(`--${name} wants an integer >= ${min}, not "${text}"`)
  return n
}
function seconds (name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text)
  if (match === null) usage(`--${name} wants a time like 180, 90s or 3m, not "${text}"`)
  const n = Number(match[1])
  return match[2] === 'm' ? n * 60 : match[2] === 'ms' ? n / 1000 : n
}
function range (name: string, text: string): [number, number] {
  const [a = NaN, b = a] = text.split('-').map(Number)
  if (!(a >= 0) || !(b >= a)) usage(`--${name} wants A-B seconds, not "${text}"`)
  return [a, b]
}

const quick = flags.quick
const connections = int('connections', flags.connections ?? (quick ? '200' : '2000'))
const duration = seconds('duration', flags.duration ?? (quick ? '20s' : '3m'))
const settle = seconds('settle', flags.settle)
const fractions: Record<string, number> = { slow: 0.1, large: 0.001, hostile: 0.05 }
for (const part of flags.mix.split(',').filter((p) => p !== '')) {
  const [key = '', value = ''] = part.split('=')
  if (!Object.hasOwn(fractions, key) || !(Number(value) >= 0)) usage(`--mix wants slow=F,large=F,hostile=F, not "${part}"`)
  fractions[key] = Number(value)
}
const share = (f: number): number => connections === 0 || f === 0 ? 0 : Math.max(1, Math.round(connections * f))
const counts: Record<Role, number> = { subscriber: 0, slow: share(fractions.slow ?? 0), large: share(fractions.large ?? 0), hostile: share(fractions.hostile ?? 0) }
counts.subscriber = connections - counts.slow - counts.large - counts.hostile
if (counts.subscriber < 0) usage('--mix fractions add up to more than 1')
const allAttacks = ATTACKS.map((a) => a.name)
const chosen = flags.attacks === undefined ? allAttacks : flags.attacks.split(',').filter((a) => a !== '')
const skipped = flags['skip-attacks'].split(',').filter((a) => a !== '')
for (const name of [...chosen, ...skipped]) if (!allAttacks.includes(name)) usage(`unknown attack "${name}"`)
const attacks = chosen.filter((a) => !skipped.includes(a))
const patients = Array.from({ length: int('patients', flags.patients, 1) }, (_, i) => `p${i + 1}`)

// ---- children ----------------------------------------------------------------------------------

/** Soft and hard limits on open files (Node cannot raise them itself; a shell can, for a child). */
function fileLimits (): { soft: number, hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/).map((v) => v === 'unlimited' ? Infinity : Number(v))
  return { soft: soft ?? 1024, hard: hard ?? soft ?? 1024 }
}
const limits = fileLimits()
const needed = connections + 256
const openFiles = limits.soft >= needed ? limits.soft : Math.min(limits.hard, needed)
const tsx = import.meta.resolve('tsx')

const children = new Set<ChildProcess>()
/** Starts `node --import tsx script` in its own process group (Ctrl-C reaches only this process), with the open-file limit raised as far as allowed. */
function spawnNode (script: string, args: string[], env: Record<string, string>, stdio: 'pipe' | 'inherit'): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const command = [process.execPath, '--import', tsx, path, ...args]
  const child = openFiles > limits.soft
    ? spawn('/bin/sh', ['-c', `ulimit -n ${openFiles}; exec "$@"`, 'sh', ...command], { detached: true, stdio: ['ignore', stdio, stdio, 'ipc'], env: { ...process.env, ...env } })
    : spawn(command[0] as string, command.slice(1), { detached: true, stdio: ['ignore', stdio, stdio, 'ipc'], env: { ...process.env, ...env } })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}
/** Kills a child's process group (it was started detached). */
function kill (child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}
async function exited (child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      kill(child)
      resolve()
    }, ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
// Whatever happens to this process, no child outlives it.
process.on('exit', () => { for (const child of children) kill(child) })

async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const started = performance.now()
const elapsed = (): number => (performance.now() - started) / 1000

// ---- the server --------------------------------------------------------------------------------

interface Crash {
  at: number
  code: number | null
  signal: string | null
  /** The last lines of its stderr, or its last error log line. */
  reason: string
  /** Attacks sent in the 3 s before it was seen. */
  suspects: Record<string, number>
}

const port = await freePort()
const base = `ws://127.0.0.1:${port}/ws`
const crashes: Crash[] = []
let server: ChildProcess | undefined
let serverPid = 0
let lives = 0
let logBytes = 0
let stderrTail = ''
let lastErrorLog = ''
let ending = false
let expectedExit = false
let restarting: Promise<void> | undefined

/** Starts the server and resolves once it listens. */
async function startServer (): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const child = spawnNode('./soak/server.ts', [], { PORT: String(port), SOAK_SERVER_LOGGER: flags['quiet-server'] ? '0' : '1' }, 'pipe')
    stderrTail = ''
    lastErrorLog = ''
    child.stdout?.on('data', (data: Buffer) => {
      logBytes += data.length
      // pino levels 50 (error) and 60 (fatal): keep the last, to say why a crash happened.
      const text = data.toString('utf8')
      const at = Math.max(text.lastIndexOf('"level":50'), text.lastIndexOf('"level":60'))
      if (at >= 0) lastErrorLog = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at) === -1 ? undefined : text.indexOf('\n', at)).slice(0, 400)
    })
    child.stderr?.on('data', (data: Buffer) => { stderrTail = (stderrTail + data.toString('utf8')).slice(-4000) })
    const listening = await new Promise<boolean>((resolve) => {
      child.once('message', (m: { listening?: number }) => resolve(m.listening === port))
      child.once('exit', () => resolve(false))
    })
    if (listening) {
      server = child
      serverPid = child.pid as number
      lives++
      child.once('exit', (code, signal) => { onServerExit(code, signal).catch((err: unknown) => fail(err)) })
      return
    }
    kill(child)
    if (attempt === 3) throw new Error(`the server did not start:\n${stderrTail}`)
    await sleep(1000)
  }
}

let stopReason: string | undefined
let stopRun: (reason: string) => void = () => {}
const runEnded = new Promise<string>((resolve) => {
  stopRun = (reason) => {
    stopReason ??= reason
    resolve(reason)
  }
})

async function onServerExit (code: number | null, signal: string | null): Promise<void> {
  const life = lives
  metricsOfLife(life)
  if (expectedExit) return
  const at = elapsed()
  const crash: Crash = { at, code, signal, reason: crashReason(stderrTail, lastErrorLog), suspects: {} }
  crashes.push(crash)
  console.log(`  ${at.toFixed(1)} s: the server exited (${signal ?? `code ${code ?? '?'}`}): ${crash.reason}`)
  if (process.env.SOAK_DEBUG === '1') console.log(stderrTail)
  crash.suspects = (await ask({ type: 'down', at: Date.now() }, 'down-ack', 3000))?.suspects ?? {}
  if (!flags.restart || ending) {
    stopRun('crash')
    return
  }
  restarting = startServer()
  await restarting
  restarting = undefined
  tell({ type: 'up' })
  console.log(`  ${elapsed().toFixed(1)} s: server restarted (pid ${serverPid})`)
}

/** The error line of a dying process's stderr, with the first stack frame outside node_modules. */
function crashReason (stderr: string, errorLog: string): string {
  const lines = stderr.split('\n').map((l) => l.trim())
  const error = lines.find((l) => /^[\w.]*(Error|Exception)\b.*:/.test(l)) ?? lines.find((l) => /Error|error:/.test(l))
  if (error === undefined) return (errorLog !== '' ? errorLog : lines.filter((l) => l !== '').at(-1) ?? '').slice(0, 300)
  // The first frames outside node_modules, as `function file:line`.
  const frames = lines.filter((l) => l.startsWith('at ') && !l.includes('node_modules') && !l.includes('node:internal')).slice(0, 3)
    .map((l) => l.slice(3).replace(/\(?(file:\/\/)?\/\S*?\/(lib|example|bench)\//, '$2/').replace(/:\d+\)?$/, ''))
  const where = frames.length === 0 ? '' : ` at ${frames.join(' < ')}`
  return `${error}${where}`.slice(0, 400)
}

function fail (err: unknown): void {
  console.error('bench/soak:', err)
  for (const child of children) kill(child)
  process.exit(2)
}

// ---- RSS and the server's own counters ---------------------------------------------------------

const rss = { before: 0, peak: 0, after: 0, timeline: [] as Array<[number, number]> }
function readRss (pid: number): { rss: number, hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return undefined
  }
}
let lastTimeline = -Infinity
const sampler = setInterval(() => {
  if (server === undefined || server.exitCode !== null || server.signalCode !== null) return
  const sample = readRss(serverPid)
  if (sample === undefined) return
  rss.peak = Math.max(rss.peak, sample.rss, sample.hwm)
  const t = elapsed()
  if (t - lastTimeline >= Math.max(5, duration / 12)) {
    lastTimeline = t
    rss.timeline.push([Math.round(t), sample.rss])
  }
}, 250)

interface ServerCounters { dropped: number, errors: number, connections: number }
const countersByLife = new Map<number, ServerCounters>()
let latestCounters: ServerCounters | undefined
async function scrape (): Promise<void> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text()
    const sum = (name: string): number => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
    latestCounters = { dropped: sum('wirebox_dropped_total'), errors: sum('wirebox_errors_total'), connections: sum('wirebox_connections') }
  } catch {
    // a busy or dead server: keep the last numbers
  }
}
function metricsOfLife (life: number): void {
  if (latestCounters !== undefined) countersByLife.set(life, latestCounters)
  latestCounters = undefined
}
const scraper = setInterval(() => { scrape().catch(() => {}) }, 5000)

// ---- the load process ------------------------------------------------------------------------

let load: ChildProcess | undefined
const waiting = new Map<string, (m: FromLoad) => void>()
function tell (message: ToLoad): void {
  if (load?.connected === true) load.send(message)
}
/** The load process's next message of a type, or undefined after `ms`. */
async function reply<T extends FromLoad['type']> (answer: T, ms: number): Promise<Extract<FromLoad, { type: T }> | undefined> {
  if (load?.connected !== true) return undefined
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    waiting.set(answer, (m) => {
      clearTimeout(timer)
      resolve(m as Extract<FromLoad, { type: T }>)
    })
  })
}
async function ask<T extends FromLoad['type']> (message: ToLoad, answer: T, ms: number): Promise<Extract<FromLoad, { type: T }> | undefined> {
  const answered = reply(answer, ms)
  tell(message)
  return await answered
}

// ---- the bystander -----------------------------------------------------------------------------

const PING_EVERY_MS = 50
const PING_GIVE_UP_MS = 10_000
const bystander = { latencies: [] as number[], sent: 0, timedOut: 0, lostInCloses: 0, reconnects: 0 }
let bystanderPeer: Peer | undefined
let bystanderOn = true
const bystanderRuns = (): boolean => bystanderOn
const pings = new Map<number, number>()
async function runBystander (): Promise<void> {
  let first = true
  while (bystanderRuns()) {
    let peer: Peer
    try {
      peer = await Peer.connect(base, { encoding: 'messagepack', version: 3, compression: 'gzip' }, { timeoutMs: 5000 })
    } catch {
      await sleep(250)
      continue
    }
    if (!bystanderRuns()) {
      // The run ended while this connection was being made.
      peer.terminate()
      break
    }
    if (!first) bystander.reconnects++
    first = false
    bystanderPeer = peer
    peer.onMessage = (m) => {
      const id = m.envelope?.id
      if (m.type !== MessageType.PONG || id === undefined) return
      const sent = pings.get(id)
      if (sent === undefined) return
      pings.delete(id)
      bystander.latencies.push(performance.now() - sent)
    }
    await peer.closed
    bystander.lostInCloses += pings.size
    pings.clear()
  }
}
let pingId = 0
const pinger = setInterval(() => {
  const now = performance.now()
  for (const [id, sent] of pings) {
    if (now - sent < PING_GIVE_UP_MS) break
    pings.delete(id)
    bystander.timedOut++
    bystander.latencies.push(now - sent)
  }
  const peer = bystanderPeer
  if (peer?.open !== true || !bystanderOn) return
  const id = ++pingId
  pings.set(id, performance.now())
  bystander.sent++
  peer.send(MessageType.PING, { event_type: 'ping', id }).catch(() => pings.delete(id))
}, PING_EVERY_MS)

// ---- Ctrl-C ------------------------------------------------------------------------------------

let interrupted = false
let onInterrupt: () => void = () => {}
const interruption = new Promise<void>((resolve) => { onInterrupt = resolve })
process.on('SIGINT', () => {
  if (interrupted) {
    for (const child of children) kill(child)
    process.exit(130)
  }
  interrupted = true
  console.log('\n  interrupted: stopping (Ctrl-C again to quit at once)')
  stopRun('interrupted')
  onInterrupt()
})
process.on('SIGTERM', () => {
  for (const child of children) kill(child)
  process.exit(143)
})

// ---- the run -----------------------------------------------------------------------------------

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0)
const describe = `${connections} connections (${counts.subscriber} subscribers, ${counts.slow} slow readers, ${counts.large} large-request, ${counts.hostile} hostile) + 1 bystander`
console.log(`bench/soak - node ${process.version}, ${availableParallelism()} cores, the ECG example (example/server.ts) in a child process; ${describe}; ${duration} s of load, RSS "after" ${settle} s after every client left; ${patients.length} patient topics; ${flags.restart ? 'restart after a crash' : 'stop at a crash'}; seed ${flags.seed}`)
if (openFiles < needed) console.log(`  warning: open files limited to ${openFiles} (hard limit), ${needed} wanted: connections beyond it fail with EMFILE`)

try {
  await startServer()
} catch (err) {
  fail(err)
}
await sleep(2000)
rss.before = readRss(serverPid)?.rss ?? 0
rss.peak = rss.before
console.log(`  server pid ${serverPid} on port ${port}, RSS ${mb(rss.before)} MB; opening ${connections} connections...`)

const loadConfig: LoadConfig = {
  base,
  counts,
  patients,
  seed: int('seed', flags.seed),
  samples: int('samples', flags.samples, 1),
  inFlight: int('in-flight', flags['in-flight'], 1),
  pauseSeconds: range('pause', flags.pause),
  resumeSeconds: range('resume-every', flags['resume-every'] ?? (quick ? '8-15' : '60-150')),
  attacks,
  chunkBytes: int('chunk-bytes', flags['chunk-bytes'], 1),
  manySubscriptions: int('many-subs', flags['many-subs']),
  rampPerSecond: 500,
  drainMs: 60_000
}
let loadExit: string | undefined
/** Starts the load process; its messages answer `reply`. */
function startLoad (): void {
  load = spawnNode('./soak/load.ts', [JSON.stringify(loadConfig)], {}, 'inherit')
  load.on('message', (m: FromLoad) => {
    const waiter = waiting.get(m.type)
    waiting.delete(m.type)
    waiter?.(m)
  })
  load.once('exit', (code, signal) => {
    loadExit = signal ?? `code ${code ?? '?'}`
    if (!ending) {
      console.log(`  the load process exited (${loadExit})`)
      stopRun('load exited')
    }
  })
}
startLoad()
const ready = await Promise.race([
  reply('ready', 120_000),
  runEnded.then(() => undefined)
])
if (ready !== undefined) console.log(`  ${elapsed().toFixed(1)} s: ${ready.connected} connected${ready.failed > 0 ? `, ${ready.failed} not at the first attempt (retrying)` : ''}; load for ${duration} s`)
else if (stopReason === undefined) console.log(`  ${elapsed().toFixed(1)} s: the load did not report its first connections in 120 s; load for ${duration} s`)
runBystander().catch((err: unknown) => fail(err))
// A second of baseline for the bystander, then the hostile clients start.
setTimeout(() => tell({ type: 'go' }), 1000).unref()

const loadStarted = elapsed()
const timer = setTimeout(() => stopRun('done'), duration * 1000)
const why = await runEnded
clearTimeout(timer)
ending = true
await restarting
const loadSeconds = elapsed() - loadStarted
console.log(`  ${elapsed().toFixed(1)} s: load stopped (${why}); draining...`)

bystanderOn = false
clearInterval(pinger)
bystanderPeer?.terminate()
const serverUp = (): boolean => server !== undefined && server.exitCode === null && server.signalCode === null
const stats: LoadStats | undefined = (await ask({ type: 'stop', quick: interrupted || !serverUp() }, 'stats', interrupted ? 10_000 : 90_000))?.stats
if (serverUp()) await scrape()
tell({ type: 'exit' })
if (load !== undefined) await exited(load, 5000)

if (serverUp() && !interrupted) {
  console.log(`  every client left; RSS "after" in ${settle} s...`)
  await Promise.race([sleep(settle * 1000), interruption])
}
rss.after = serverUp() ? readRss(serverPid)?.rss ?? 0 : 0
const afterKnown = serverUp() && !interrupted
if (afterKnown) await scrape()
// Connections the server still counts once every client left (a leak when above 0).
const connectionsAfter = afterKnown ? latestCounters?.connections : undefined
metricsOfLife(lives)
expectedExit = true
clearInterval(sampler)
clearInterval(scraper)
if (server?.connected === true) server.disconnect()
if (server !== undefined) await exited(server, 5000)

// ---- replaying the suspects of crashes ---------------------------------------------------------

/**
 * Replays each attack sent shortly before a crash, alone, against a fresh server (up to three
 * tries, MessagePack then JSON then MessagePack v2), to tell which ones kill it: `kills it` or
 * `survives`.
 */
async function replay (names: string[]): Promise<Map<string, string>> {
  const verdicts = new Map<string, string>()
  const replayPort = await freePort()
  const replayBase = `ws://127.0.0.1:${replayPort}/ws`
  let child: { process: ChildProcess, died: Promise<true> } | undefined
  const up = async (): Promise<typeof child> => {
    const c = spawnNode('./soak/server.ts', [], { PORT: String(replayPort), SOAK_SERVER_LOGGER: '0' }, 'pipe')
    c.stdout?.resume()
    c.stderr?.resume()
    const died = new Promise<true>((resolve) => c.once('exit', () => resolve(true)))
    const ok = await Promise.race([new Promise<boolean>((resolve) => c.once('message', () => resolve(true))), died.then(() => false)])
    return ok ? { process: c, died } : undefined
  }
  const variants = [
    { encoding: 'messagepack', version: 3, compression: 'gzip' },
    { encoding: 'json', version: 3, compression: 'gzip' },
    { encoding: 'messagepack', version: 2, compression: 'deflate' }
  ] as const
  const ctx = { base: replayBase, patients, rand: Math.random, chunkBytes: loadConfig.chunkBytes, manySubscriptions: loadConfig.manySubscriptions }
  for (const name of names) {
    const attack = ATTACKS.find((a) => a.name === name)
    if (attack === undefined || interrupted) continue
    let verdict = 'survives'
    for (const variant of variants) {
      child ??= await up()
      if (child === undefined) break
      try {
        if (attack.alone !== undefined) {
          await attack.alone(ctx)
        } else {
          const peer = await Peer.connect(replayBase, variant, { timeoutMs: 5000 })
          await attack.run?.(peer, ctx)
          await Promise.race([peer.closed, sleep(500)])
          peer.terminate()
        }
      } catch {
        // the attack's own trouble (e.g. the server went first): the exit decides
      }
      if (await Promise.race([child.died, sleep(500).then(() => false)])) {
        verdict = 'kills it'
        child = undefined
        break
      }
    }
    verdicts.set(name, child === undefined && verdict !== 'kills it' ? 'n/a (no server)' : verdict)
  }
  if (child !== undefined) {
    kill(child.process)
    await exited(child.process, 2000)
  }
  return verdicts
}

const suspects = [...new Set(crashes.flatMap((c) => Object.keys(c.suspects)))].filter((name) => attacks.includes(name))
let verdicts = new Map<string, string>()
if (suspects.length > 0 && !flags['skip-replay'] && !interrupted) {
  console.log(`  replaying the ${suspects.length} attack(s) sent in the 3 s before a crash, each alone against a fresh server...`)
  verdicts = await replay(suspects)
}

// ---- the report --------------------------------------------------------------------------------

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}
const tally = (t: Record<string, number>): string => Object.entries(t).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} x${n}`).join(', ') || '-'
const total = (t: Record<string, number>): number => Object.values(t).reduce((a, b) => a + b, 0)
const merge = (into: Record<string, number>, from: Record<string, number>): Record<string, number> => {
  for (const [k, n] of Object.entries(from)) into[k] = (own(into, k) ?? 0) + n
  return into
}

const latencies = [...bystander.latencies].sort((a, b) => a - b)
const ms = (n: number): string => Number.isNaN(n) ? '-' : n.toFixed(n < 10 ? 2 : 0)
const seq: SeqCounts = seqCounts()
const refused = emptyTally()
const closed = emptyTally()
let closedByCrash = 0
let strays = 0
let unsubscribeTimeouts = 0
for (const role of ROLES) {
  const r = stats?.roles[role]
  if (r === undefined) continue
  if (role !== 'hostile') addCounts(seq, r.seq)
  merge(refused, r.refused)
  merge(closed, r.closed)
  closedByCrash += r.closedByCrash
  strays += r.strays
  unsubscribeTimeouts += r.unsubscribeTimeouts
}
const serverCounters = [...countersByLife.values()].reduce((a, c) => ({ dropped: a.dropped + c.dropped, errors: a.errors + c.errors }), { dropped: 0, errors: 0 })
const attacksSent = Object.values(stats?.attacks ?? {}).reduce((n, a) => n + a.sent, 0)
const history = stats?.history
const unreported = seq.lost > 0

console.log()
printTable(['measure', 'value'], [
  ['server RSS MB before / peak / after', `${mb(rss.before)} / ${mb(rss.peak)} / ${afterKnown ? mb(rss.after) : 'n/a'}`],
  ['server connections open after', connectionsAfter === undefined ? 'n/a' : String(connectionsAfter)],
  ['server RSS MB over time (s: MB)', rss.timeline.map(([t, b]) => `${t}: ${mb(b)}`).join(', ')],
  ['bystander round trip ms p50 / p99 / max', `${ms(percentile(latencies, 0.5))} / ${ms(percentile(latencies, 0.99))} / ${ms(latencies.at(-1) ?? NaN)}`],
  ['bystander PINGs sent / answered / timed out / lost in closes', `${bystander.sent} / ${bystander.latencies.length - bystander.timedOut} / ${bystander.timedOut} / ${bystander.lostInCloses}`],
  ['topic messages received', String(seq.received)],
  ['lost (seq skipped, no gap notice)', `${seq.lost}${seq.lostTail > 0 ? ` (${seq.lostTail} at the tail)` : ''}`],
  ['gaps notified (seqs / notices)', `${seq.gapSeqs} / ${seq.gapNotices}`],
  ['duplicates', String(seq.duplicates)],
  ['out of order / before the ACK / stray', `${seq.outOfOrder} / ${seq.beforeAck} / ${strays}`],
  ['server crashes (child exits)', String(crashes.length)],
  ['connections refused (server up)', `${total(refused)}: ${tally(refused)}`],
  ['connections closed by the server, by code', `${total(closed)}: ${tally(closed)}`],
  ['connections lost to crashes', String(closedByCrash)],
  ['messages the server dropped (its metrics)', String(serverCounters.dropped)],
  ['ecg.history ok / wrong / error / unanswered', history === undefined ? '-' : `${history.ok} / ${history.wrong} / ${total(history.errors)} / ${history.unanswered}`],
  ['hostile attacks sent', String(attacksSent)],
  ['server log MB', (logBytes / 1024 / 1024).toFixed(1)]
], 1)

if (stats !== undefined) {
  console.log()
  printTable(['role', 'clients', 'connects', 'refused', 'closed by the server', 'lost to crashes', 'received', 'lost', 'gaps notified', 'duplicates', 'ERRORs received'], ROLES.map((role) => {
    const r = stats.roles[role]
    const listens = role !== 'hostile'
    return [role, String(r.clients), String(r.connects), tally(r.refused), tally(r.closed), String(r.closedByCrash),
      listens ? String(r.seq.received) : '-', listens ? String(r.seq.lost) : '-', listens ? String(r.seq.gapSeqs) : '-', listens ? String(r.seq.duplicates) : '-', tally(r.errors)]
  }), 1)
  console.log()
  printTable(['attack', 'sent', 'ERROR answers', 'closed by the server', 'outcomes (own connection)', 'replayed alone after a crash'],
    attacks.map((name) => {
      const a = own(stats.attacks, name) ?? { sent: 0, errors: {}, closed: {}, outcomes: {} }
      return [name, String(a.sent), tally(a.errors), tally(a.closed), tally(a.outcomes), verdicts.get(name) ?? '-']
    }), 1)
}
for (const [i, crash] of crashes.entries()) {
  if (i === 0) console.log()
  if (i >= 5) {
    console.log(`crash ${i + 1}-${crashes.length}: (not shown)`)
    break
  }
  console.log(`crash ${i + 1} at ${crash.at.toFixed(1)} s (${crash.signal ?? `exit code ${crash.code ?? '?'}`}): ${crash.reason || '(no output)'}; attacks in the 3 s before: ${tally(crash.suspects)}`)
}
if (stats === undefined) console.log('\n(no tallies from the load process: it did not answer)')
if (unsubscribeTimeouts > 0) console.log(`\n${unsubscribeTimeouts} final UNSUBSCRIBEs got no answer (the connection closed, or ${loadConfig.drainMs / 1000} s passed): their topics had no tail check`)

console.log()
console.log(JSON.stringify({
  bench: 'soak',
  node: process.version,
  connections: counts,
  durationSeconds: Math.round(loadSeconds),
  settleSeconds: settle,
  ended: why,
  rssBytes: { before: rss.before, peak: rss.peak, after: afterKnown ? rss.after : null, timeline: rss.timeline },
  serverConnectionsAfter: connectionsAfter ?? null,
  bystanderMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? null, sent: bystander.sent, timedOut: bystander.timedOut, lostInCloses: bystander.lostInCloses },
  messages: { ...seq, strays },
  crashes: crashes.map((c) => ({ atSeconds: Number(c.at.toFixed(1)), code: c.code, signal: c.signal, reason: c.reason, suspects: c.suspects })),
  restarts: Math.max(0, lives - 1),
  refused,
  closedByServer: closed,
  closedByCrash,
  serverDropped: serverCounters.dropped,
  serverErrors: serverCounters.errors,
  history,
  roles: stats?.roles,
  attacks: stats?.attacks,
  replayed: Object.fromEntries(verdicts),
  serverLogBytes: logBytes,
  loadExit: loadExit ?? null
}))
process.exit(interrupted ? 130 : crashes.length > 0 || unreported || stats === undefined ? 1 : 0)
