/**
 * The load of bench/soak.ts, in a process of its own (so its work does not delay the bystander's
 * measurements): subscribers, slow readers, large-request clients and hostile clients against
 * the example server, each tallied by role. Started by soak.ts with a LoadConfig as JSON in its
 * first argument; the messages it exchanges with soak.ts are in ipc.ts.
 */
import { MessageType } from '../../lib/index.js'
import type { DecodedMessage, SubscriptionAck } from '../../lib/index.js'
import { SeqTracker, seqCounts } from './accounting.js'
import { ATTACKS } from './attacks.js'
import type { Attack, AttackContext } from './attacks.js'
import { ConnectError, Peer } from './peer.js'
import type { Variant } from './peer.js'
import { ROLES, bump as count, own, tally } from './ipc.js'
import type { AttackStats, FromLoad, LoadConfig, LoadStats, Role, RoleStats, ToLoad } from './ipc.js'

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig

/** A seeded PRNG (mulberry32): the same seed gives the same mix. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(config.seed)
const between = (min: number, max: number): number => min + rand() * (max - min)
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T
const hex = (code: unknown): string => typeof code === 'number' ? `0x${code.toString(16)}` : String(code)

// ---- stopping: every wait wakes up at once ---------------------------------------------------

let stopping = false
/** Loops test this (a function: the flag changes elsewhere). */
const stopped = (): boolean => stopping
let quickStop = false
const wakers = new Set<() => void>()

/** Waits for `promise`, at most `ms`, and never past the stop; undefined when it did not settle. */
async function until<T> (promise: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (stopping) return undefined
  return await new Promise<T | undefined>((resolve) => {
    const done = (value?: T): void => {
      clearTimeout(timer)
      wakers.delete(wake)
      resolve(value)
    }
    const wake = (): void => done()
    const timer = setTimeout(wake, ms)
    wakers.add(wake)
    promise?.then(done, () => done())
  })
}
const sleep = async (ms: number): Promise<void> => { await until(undefined, ms) }

// ---- the server's lives: a crash is seen as closes first, then as soak.ts's 'down' ------------

let epoch = 0
let down = false
const CRASH_GRACE_MS = 500

/** After a failure seen at server life `at`: was it the server dying? (Its 'down' comes a little later.) */
async function crashed (at: number): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, CRASH_GRACE_MS))
  return down || epoch !== at
}

// ---- tallies ---------------------------------------------------------------------------------

function roleStats (clients: number): RoleStats {
  return { clients, connects: 0, refused: tally(), closed: tally(), closedByCrash: 0, failedWhileDown: 0, errors: tally(), decodeErrors: 0, seq: seqCounts(), unsubscribeTimeouts: 0, strays: 0 }
}
const stats: LoadStats = {
  roles: Object.fromEntries(ROLES.map((r) => [r, roleStats(config.counts[r])])) as Record<Role, RoleStats>,
  history: { requests: 0, ok: 0, wrong: 0, errors: tally(), unanswered: 0 },
  slowPauses: 0,
  attacks: Object.create(null) as Record<string, AttackStats>
}
function attackStats (name: string): AttackStats {
  let a = own(stats.attacks, name)
  if (a === undefined) {
    a = { sent: 0, errors: tally(), closed: tally(), outcomes: tally() }
    stats.attacks[name] = a
  }
  return a
}
const recentAttacks: Array<{ at: number, name: string }> = []
// Attacks sent this long before a crash was seen are its suspects (a busy server lags).
const SUSPECT_WINDOW_MS = 3000

const live = new Set<Peer>()

/**
 * Connects (with backoff) until negotiated or stopped; `at` is the server life it connected to.
 * `attempted` hears how the first attempt went.
 */
async function connect (role: Role, variant: Variant, attempted: (ok: boolean) => void = () => {}): Promise<{ peer: Peer, at: number } | undefined> {
  let backoff = 250
  while (!stopped()) {
    if (down) {
      await sleep(100)
      continue
    }
    const at = epoch
    try {
      const peer = await Peer.connect(config.base, variant)
      live.add(peer)
      peer.closed.then(() => live.delete(peer), () => {})
      stats.roles[role].connects++
      attempted(true)
      return { peer, at }
    } catch (err) {
      attempted(false)
      const reason = err instanceof ConnectError ? err.reason : String(err)
      if (await crashed(at)) stats.roles[role].failedWhileDown++
      else count(stats.roles[role].refused, reason)
    }
    await sleep(backoff * (0.5 + rand()))
    backoff = Math.min(backoff * 2, 5000)
  }
  attempted(false)
  return undefined
}

/** How a connection ended, when the server ended it: its close code, 'crash', or undefined (we did). */
async function serverClose (role: Role, peer: Peer, at: number): Promise<string | undefined> {
  if (peer.closedByUs) return undefined
  await until(peer.closed, 5000)
  if (await crashed(at)) {
    stats.roles[role].closedByCrash++
    return 'crash'
  }
  const code = String(peer.closeCode ?? 'open')
  count(stats.roles[role].closed, code)
  return code
}

// ---- subscribers, slow readers, large-request clients ----------------------------------------

const LISTENER_VARIANTS: Array<[number, Variant]> = [
  [0.7, { encoding: 'messagepack', version: 3, compression: 'gzip' }],
  [0.1, { encoding: 'messagepack', version: 3, compression: 'none' }],
  [0.1, { encoding: 'json', version: 3, compression: 'gzip' }],
  [0.05, { encoding: 'messagepack', version: 2, compression: 'deflate' }],
  [0.05, { encoding: 'messagepack', version: 1, compression: 'none' }]
]
function listenerVariant (): Variant {
  let r = rand()
  for (const [weight, variant] of LISTENER_VARIANTS) {
    if ((r -= weight) < 0) return variant
  }
  return LISTENER_VARIANTS[0]?.[1] as Variant
}

/** A client that subscribes to patient topics and checks every seq; slow and large ones stop reading now and then. */
class Listener {
  readonly role: Exclude<Role, 'hostile'>
  readonly topics: string[]
  readonly variant: Variant
  readonly trackers = new Map<string, SeqTracker>()
  readonly #subscribing = new Map<number, string>()
  readonly #stats: RoleStats
  #epoch = 0
  #peer: Peer | undefined

  constructor (role: Exclude<Role, 'hostile'>) {
    this.role = role
    this.#stats = stats.roles[role]
    const topics = role === 'slow' ? 2 + Math.floor(rand() * 2) : role === 'large' ? 1 : (rand() < 0.6 ? 1 : 2)
    const pool = [...config.patients]
    this.topics = Array.from({ length: Math.min(topics, pool.length) }, () => `ecg/${pool.splice(Math.floor(rand() * pool.length), 1)[0] as string}`)
    this.variant = role === 'large' ? { encoding: 'messagepack', version: 3, compression: 'gzip' } : listenerVariant()
  }

  async run (connected: (ok: boolean) => void): Promise<void> {
    while (!stopped()) {
      const c = await connect(this.role, this.variant, connected)
      if (c === undefined) break
      const { peer, at } = c
      if (at !== this.#epoch) {
        // A new server: its seqs start over; what the old one owed is the crash's.
        for (const tracker of this.trackers.values()) tracker.finish()
        this.trackers.clear()
        this.#epoch = at
      }
      this.#peer = peer
      peer.onMessage = (m) => this.#onMessage(m)
      await this.#subscribe(peer)
      if (peer.open && !stopping) await this.#session(peer)
      this.#stats.decodeErrors += peer.decodeErrors
      peer.decodeErrors = 0
      if (stopping) break
      if (peer.open) peer.terminate() // a resume: reconnect with `since`
      else await serverClose(this.role, peer, at)
      await sleep(between(250, 1000))
    }
    await this.#finish()
  }

  async #subscribe (peer: Peer): Promise<void> {
    await until(Promise.all(this.topics.map(async (topic) => {
      let tracker = this.trackers.get(topic)
      if (tracker === undefined) {
        tracker = new SeqTracker(this.#stats.seq)
        this.trackers.set(topic, tracker)
      }
      const since = tracker.since
      const id = peer.nextId()
      this.#subscribing.set(id, topic)
      await peer.call(MessageType.SUBSCRIBE, { event_type: 'subscribe', id, payload: since === undefined ? { topic } : { topic, since } }, 30_000)
      this.#subscribing.delete(id)
    })), 30_000)
  }

  async #session (peer: Peer): Promise<void> {
    if (this.role === 'subscriber') {
      await until(peer.closed, between(config.resumeSeconds[0], config.resumeSeconds[1]) * 1000)
      return
    }
    while (peer.open && !stopped()) {
      await until(peer.closed, between(5, this.role === 'large' ? 10 : 15) * 1000)
      if (!peer.open || stopping) return
      // Something to say before going quiet: the server times out peers silent for two heartbeats.
      peer.send(MessageType.PING, { event_type: 'ping' }).catch(() => {})
      peer.pause()
      const answers: Array<Promise<void>> = []
      if (this.role === 'large') {
        for (let i = 0; i < config.inFlight; i++) answers.push(this.#history(peer, Math.max(1, Math.floor(between(0.8, 1) * config.samples))))
      } else {
        stats.slowPauses++
        if (rand() < 0.5) answers.push(this.#history(peer, Math.max(1, Math.floor(between(0.02, 0.05) * config.samples))))
      }
      await until(peer.closed, between(config.pauseSeconds[0], config.pauseSeconds[1]) * 1000)
      peer.resume()
      if (this.role === 'large') await until(Promise.all(answers), 120_000)
    }
  }

  async #history (peer: Peer, samples: number): Promise<void> {
    stats.history.requests++
    const patient = (this.topics[0] ?? 'ecg/p1').slice(4)
    const answer = await peer.call(MessageType.REQUEST, { event_type: 'ecg.history', payload: { patient_id: patient, samples } }, 180_000)
    if (answer === undefined) {
      stats.history.unanswered++
    } else if (answer.type === MessageType.RESPONSE) {
      const signal = (answer.envelope?.payload as { signal?: unknown[] } | undefined)?.signal
      if (Array.isArray(signal) && signal.length === samples) stats.history.ok++
      else stats.history.wrong++
    } else {
      count(stats.history.errors, hex((answer.envelope?.payload as { code?: unknown } | undefined)?.code))
    }
  }

  #onMessage (m: DecodedMessage): void {
    const envelope = m.envelope
    if (m.type === MessageType.EVENT) {
      if (envelope?.topic === undefined || envelope.seq === undefined) return
      const tracker = this.trackers.get(envelope.topic)
      if (tracker === undefined) this.#stats.strays++
      else tracker.onMessage(envelope.seq)
    } else if (m.type === MessageType.SUBSCRIPTION_ACK) {
      const ack = envelope?.payload as SubscriptionAck | undefined
      if (ack === undefined) return
      const tracker = this.trackers.get(ack.topic)
      if (envelope?.id === undefined) {
        // Unsolicited: the server tells of messages it lost.
        if (ack.recovered === false && ack.first_seq !== undefined) tracker?.onGap(ack.first_seq)
        else if (tracker !== undefined) tracker.counts.gapNotices++
      } else if (this.#subscribing.get(envelope.id) === ack.topic) {
        tracker?.onAck(ack.seq, ack.recovered, ack.first_seq)
      }
    } else if (m.type === MessageType.ERROR) {
      count(this.#stats.errors, hex((envelope?.payload as { code?: unknown } | undefined)?.code))
    }
  }

  /** Reads what is queued, then UNSUBSCRIBEs: the ACK's seq bounds what must have come. */
  async #finish (): Promise<void> {
    const peer = this.#peer
    if (peer?.open === true && !quickStop) {
      peer.resume()
      await Promise.all(this.topics.map(async (topic) => {
        const answer = await peer.call(MessageType.UNSUBSCRIBE, { event_type: 'unsubscribe', payload: { topic } }, config.drainMs)
        const tracker = this.trackers.get(topic)
        if (answer?.type === MessageType.SUBSCRIPTION_ACK) {
          tracker?.finish((answer.envelope?.payload as SubscriptionAck).seq)
        } else {
          this.#stats.unsubscribeTimeouts++
          tracker?.finish()
        }
      }))
      this.#stats.decodeErrors += peer.decodeErrors
      peer.terminate()
    }
    for (const tracker of this.trackers.values()) tracker.finish()
  }
}

// ---- hostile clients -------------------------------------------------------------------------

const HOSTILE_VARIANTS: Variant[] = [
  { encoding: 'messagepack', version: 3, compression: 'gzip' },
  { encoding: 'messagepack', version: 3, compression: 'gzip' },
  { encoding: 'messagepack', version: 3, compression: 'none' },
  { encoding: 'json', version: 3, compression: 'gzip' },
  { encoding: 'messagepack', version: 2, compression: 'deflate' }
]
const attacks: Attack[] = ATTACKS.filter((a) => config.attacks.includes(a.name))
const attackContext: AttackContext = { base: config.base, patients: config.patients, rand, chunkBytes: config.chunkBytes, manySubscriptions: config.manySubscriptions }

let go: () => void = () => {}
const going = new Promise<void>((resolve) => { go = resolve })

/**
 * A client that connects, picks one attack and repeats it every 1-3 s for 5-15 s (so what the
 * server answers is that attack's), and comes back when closed. Starts at 'go'.
 */
async function hostile (connected: (ok: boolean) => void): Promise<void> {
  const role = stats.roles.hostile
  connected(true)
  await until(going, 24 * 3600_000)
  while (!stopped()) {
    const c = await connect('hostile', pick(HOSTILE_VARIANTS))
    if (c === undefined || attacks.length === 0) {
      c?.peer.terminate()
      break
    }
    const { peer, at } = c
    const attack = pick(attacks)
    const tally = attackStats(attack.name)
    peer.onMessage = (m) => {
      if (m.type !== MessageType.ERROR) return
      const code = hex((m.envelope?.payload as { code?: unknown } | undefined)?.code)
      count(role.errors, code)
      count(tally.errors, code)
    }
    const end = Date.now() + between(5000, 15_000)
    while (peer.open && !stopped() && Date.now() < end) {
      tally.sent++
      const now = Date.now()
      recentAttacks.push({ at: now, name: attack.name })
      while ((recentAttacks[0]?.at ?? now) < now - 10_000) recentAttacks.shift()
      if (attack.alone !== undefined) {
        attack.alone(attackContext)
          .then(async (outcome) => count(tally.outcomes, await crashed(at) ? 'server down' : outcome), (err: unknown) => count(tally.outcomes, String(err)))
      } else if (attack.run !== undefined) {
        await attack.run(peer, attackContext).catch(() => {})
      }
      await until(peer.closed, between(1000, 3000))
    }
    role.decodeErrors += peer.decodeErrors
    if (stopping || peer.open) {
      peer.terminate()
    } else {
      const code = await serverClose('hostile', peer, at)
      if (code !== undefined && code !== 'crash') count(tally.closed, code)
    }
    await sleep(between(500, 1500))
  }
}

// ---- the run ---------------------------------------------------------------------------------

function send (message: FromLoad): void {
  process.send?.(message)
}

const roles: Role[] = ROLES.flatMap((role) => Array.from({ length: config.counts[role] }, () => role))
for (let i = roles.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1))
  ;[roles[i], roles[j]] = [roles[j] as Role, roles[i] as Role]
}

const running: Array<Promise<void>> = []
let connectedFirst = 0
let attempted = 0
/** Called after a client's connection attempts; the first call of each counts towards 'ready'. */
const firstAttempt = (): ((ok: boolean) => void) => {
  let once = false
  return (ok) => {
    if (once) return
    once = true
    attempted++
    if (ok) connectedFirst++
    if (debug && attempted % 50 === 0) console.log(`  load: ${attempted} first attempts at ${(performance.now() / 1000).toFixed(1)} s`)
    if (attempted === roles.length) send({ type: 'ready', connected: connectedFirst, failed: attempted - connectedFirst })
  }
}

let stopRequested = false
async function stop (): Promise<void> {
  if (stopRequested) return
  stopRequested = true
  stopping = true
  for (const wake of [...wakers]) wake()
  await Promise.race([Promise.all(running), new Promise((resolve) => setTimeout(resolve, quickStop ? 3000 : config.drainMs + 15_000))])
  for (const peer of live) peer.terminate()
  send({ type: 'stats', stats })
}

function exit (): void {
  for (const peer of live) peer.terminate()
  process.exit(0)
}

process.on('message', (message: ToLoad) => {
  if (message.type === 'go') {
    go()
  } else if (message.type === 'down') {
    epoch++
    down = true
    const suspects = tally()
    for (const a of recentAttacks) if (a.at >= message.at - SUSPECT_WINDOW_MS && a.at <= message.at) count(suspects, a.name)
    send({ type: 'down-ack', suspects })
  } else if (message.type === 'up') {
    down = false
  } else if (message.type === 'stop') {
    quickStop = message.quick
    stop().catch((err: unknown) => {
      console.error('soak load: stop failed', err)
      exit()
    })
  } else if (message.type === 'exit') {
    exit()
  }
})
// soak.ts gone (Ctrl-C, a crash): leave nothing behind.
process.on('disconnect', exit)

const debug = process.env.SOAK_DEBUG === '1'
if (debug) console.log(`  load: started after ${(performance.now() / 1000).toFixed(1)} s of process life`)
if (roles.length === 0) send({ type: 'ready', connected: 0, failed: 0 })
// Ramp up in batches every 50 ms (a timer per connection would be late by more than its delay).
const batch = Math.max(1, Math.round(config.rampPerSecond / 20))
for (let i = 0; i < roles.length && !stopped(); i++) {
  const role = roles[i] as Role
  const connected = firstAttempt()
  running.push(role === 'hostile' ? hostile(connected) : new Listener(role).run(connected))
  if ((i + 1) % batch === 0) await sleep(50)
}
