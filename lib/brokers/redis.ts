/**
 * The Redis broker (ioredis): several Fastify instances share topics. One Lua script per publish
 * assigns the seq (never below what any instance has seen), appends to the topic's Redis Stream
 * (the history, MAXLEN-bounded) and PUBLISHes once; each instance listening to the topic receives
 * it once, in seq order. Redis is untrusted input: a pub/sub message is taken as it is only when
 * it carries the next seq and reads back well; anything else is checked against the topic's
 * counter and stream, which fill what they can, and what they cannot is reported as a gap
 * (PROTOCOL.md "Lost messages"). Malformed messages are dropped, counted and reported. Every key
 * expires once its topic has had no publish for the history TTL, except the counter of a topic
 * some instance listens to, which that instance keeps (so seq never goes back for live
 * subscribers).
 */
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { createMessagePackCodec } from '../core/msgpack-codec.js'
import { HISTORY_DEFAULTS } from './broker.js'
import type { Broker, BrokerListener, HistoryOptions, HistorySlice, TopicMessage } from './broker.js'
import { isWellFormedTopic, MAX_TOPIC_BYTES } from '../topics/topic-name.js'
import { PUBLISH, KEEP } from './redis-scripts.js'
import { parseSeq, readEntry, readMessage, splitPublished, toWire, topicOfChannel } from './redis-wire.js'
import type { Read } from './redis-wire.js'

/** Options of the Redis broker. */
export interface RedisBrokerOptions extends HistoryOptions {
  /** Redis URL (default: `REDIS_URL`, else redis://127.0.0.1:6379). */
  url?: string
  /** Key and channel prefix (default 'wirebox'). */
  prefix?: string
  /**
   * Messages older than this many ms are not replayed (default 300000: 5 minutes); also how long
   * a topic's keys outlive its last publish (at least MIN_KEY_TTL_MS).
   */
  historyTtlMs?: number
  /** ioredis options for both connections (default: ioredis's, with unlimited reconnection). */
  redis?: RedisOptions
  /** Told about faults: malformed messages, gaps, failed Redis commands (default: ignored, but counted). */
  onError?: (error: Error) => void
}

/** The shortest lifetime of a topic's Redis keys after its last publish, in ms. */
export const MIN_KEY_TTL_MS = 1000

// Without Redis to confirm it, a pub/sub message is believed only this far ahead of the last seq.
const MAX_UNCONFIRMED_JUMP = 1000
const PAGE = 500

type RedisWithScripts = Redis & {
  wireboxPublish: (seqKey: string, streamKey: string, channel: string, data: Buffer, maxLen: number, floor: string, ttlMs: number) => Promise<string>
  wireboxKeep: (seqKey: string, floor: string, ttlMs: number) => Promise<string>
}

// Per listened topic: the last seq handed to the listener, and a chain that keeps deliveries in order.
interface TopicState {
  last: number
  chain: Promise<void>
}

/** Throws the TypeError for a topic no Redis key may be made of. */
function checkTopic (topic: string): void {
  if (!isWellFormedTopic(topic)) throw new TypeError(`wirebox redis broker: a topic must be well-formed UTF-16 (no lone surrogate) of 1 to ${MAX_TOPIC_BYTES} UTF-8 bytes`)
}

/** Creates the Redis broker; the connections open at once and reconnect by themselves. */
export function redisBroker (options: RedisBrokerOptions = {}): Broker {
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = options.prefix ?? 'wirebox'
  const historySize = options.historySize ?? HISTORY_DEFAULTS.historySize
  const ttl = options.historyTtlMs ?? HISTORY_DEFAULTS.historyTtlMs
  const keyTtl = Math.max(Math.ceil(ttl), MIN_KEY_TTL_MS)
  const report = options.onError ?? (() => {})
  const redisOptions: RedisOptions = { maxRetriesPerRequest: null, ...options.redis }
  const commands = new Redis(url, redisOptions) as RedisWithScripts
  const subscriber = new Redis(url, redisOptions)
  commands.defineCommand('wireboxPublish', { numberOfKeys: 2, lua: PUBLISH })
  commands.defineCommand('wireboxKeep', { numberOfKeys: 1, lua: KEEP })
  commands.on('error', () => {}) // ioredis reconnects; commands wait in its offline queue
  subscriber.on('error', () => {})
  const codec = createMessagePackCodec()
  const stats = { malformed: 0, gaps: 0, replayed: 0 }
  const seqKey = (topic: string): string => `${prefix}:seq:${topic}`
  const streamKey = (topic: string): string => `${prefix}:stream:${topic}`
  const channelOf = (topic: string): string => `${prefix}:msg:${topic}`
  const channelPrefix = Buffer.from(`${prefix}:msg:`)

  let listener: BrokerListener | undefined
  const topics = new Map<string, TopicState>()
  const known = new Map<string, number>() // the highest seq this instance has seen confirmed, per topic

  const see = (topic: string, seq: number): void => {
    if (seq > (known.get(topic) ?? 0)) known.set(topic, seq)
  }
  const malformed = (topic: string, why: string): void => {
    stats.malformed++
    report(new Error(`wirebox redis broker: malformed message on ${topic} dropped: ${why}`))
  }
  const counterOf = (value: string | null): number => value === null || value === '0' ? 0 : parseSeq(value) ?? 0

  /** Hands `message` to the listener, telling it first about the seqs missing before it. */
  const hand = (topic: string, state: TopicState, message: TopicMessage): void => {
    if (message.seq > state.last + 1) gap(topic, state, message.seq - 1)
    state.last = message.seq
    see(topic, message.seq)
    listener?.message(message)
  }
  /** Reports seqs last + 1 to `to` as lost and moves past them. */
  const gap = (topic: string, state: TopicState, to: number): void => {
    stats.gaps++
    listener?.gap(topic, state.last + 1, to)
    state.last = to
    see(topic, to)
  }

  /** The stream's entries with seq from `from` to `to` (the newest when undefined), read back and checked. */
  const readStream = async (topic: string, from: number, to?: number): Promise<Read[]> => {
    const out: Read[] = []
    let start = `${from}-0`
    for (;;) {
      const entries = await commands.xrangeBuffer(streamKey(topic), start, to === undefined ? '+' : `${to}-0`, 'COUNT', PAGE)
      for (const [id, fields] of entries) {
        const read = readEntry(codec, topic, id, fields)
        if (read === undefined) malformed(topic, `stream entry ${id.toString('latin1')} has no valid seq`)
        else if ('malformed' in read) malformed(topic, `stream entry ${read.seq}: ${read.malformed}`)
        if (read !== undefined) out.push(read)
      }
      const last = entries.at(-1)
      if (last === undefined || entries.length < PAGE) return out
      start = `(${last[0].toString('latin1')}`
    }
  }

  /**
   * Brings a topic up to `upTo` (as far as Redis has it when undefined) from its counter and
   * stream: delivers what they hold, reports the rest as a gap. `incoming`, a message from
   * pub/sub, is delivered only if Redis confirms its seq. Returns whether Redis confirmed `upTo`.
   */
  const catchUp = async (topic: string, state: TopicState, upTo?: number, incoming?: TopicMessage): Promise<boolean> => {
    const [counter, entries] = await Promise.all([commands.get(seqKey(topic)), readStream(topic, state.last + 1, upTo)])
    const top = Math.max(counterOf(counter), entries.at(-1)?.seq ?? 0)
    const target = upTo === undefined ? top : Math.min(upTo, top)
    for (const entry of entries) {
      if (entry.seq > target) break
      if (entry.seq <= state.last || !('message' in entry)) continue
      if (entry.seq !== incoming?.seq) stats.replayed++
      hand(topic, state, entry.message)
    }
    if (incoming !== undefined && incoming.seq <= target && incoming.seq > state.last) hand(topic, state, incoming)
    if (target > state.last) gap(topic, state, target)
    return upTo === undefined || target >= upTo
  }

  /** A message from pub/sub (`read`), in this topic's chain. */
  const receive = async (topic: string, state: TopicState, read: Read): Promise<void> => {
    const message = 'message' in read ? read.message : undefined
    if (read.seq <= state.last) {
      if (message === undefined) malformed(topic, `seq ${read.seq}: ${(read as { malformed: string }).malformed}`)
      return
    }
    if (message !== undefined && read.seq === state.last + 1) return hand(topic, state, message)
    let confirmed: boolean
    try {
      confirmed = await catchUp(topic, state, read.seq, message)
    } catch (err) {
      report(err as Error)
      // Redis cannot say what is missing: a readable message not too far ahead is delivered
      // after a gap notice; anything else waits for the next message to try again.
      if (message !== undefined && read.seq - state.last <= MAX_UNCONFIRMED_JUMP) hand(topic, state, message)
      else if (message === undefined) malformed(topic, `seq ${read.seq}: ${(read as { malformed: string }).malformed}`)
      return
    }
    if (!confirmed) malformed(topic, `seq ${read.seq} is beyond the topic's counter in Redis`)
  }

  /** Runs `work` in the topic's chain, unless the topic is no longer listened to by then. */
  const enqueue = (topic: string, work: (state: TopicState) => Promise<void>): void => {
    const state = topics.get(topic)
    if (state === undefined) return
    state.chain = state.chain.then(async () => { if (topics.get(topic) === state) await work(state) }).catch((err: Error) => report(err))
  }

  subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
    const topic = topicOfChannel(channelPrefix, channel)
    if (topic === undefined) {
      stats.malformed++
      report(new Error(`wirebox redis broker: message on channel ${channel.toString('hex')}, which is no topic's, dropped`))
      return
    }
    if (!topics.has(topic)) return
    const published = splitPublished(payload)
    if (published === undefined) return malformed(topic, 'no seq')
    const read = readMessage(codec, topic, published.seq, published.data)
    enqueue(topic, async (state) => await receive(topic, state, read))
  })

  // After a reconnection, what was published meanwhile is replayed from the streams.
  subscriber.on('ready', () => {
    for (const topic of topics.keys()) enqueue(topic, async (state) => { await catchUp(topic, state) })
  })

  // Keeps the counters of listened topics alive, and finds what pub/sub did not bring.
  let keeping = false
  const keep = async (): Promise<void> => {
    if (keeping || commands.status !== 'ready' || topics.size === 0) return
    keeping = true
    try {
      const counters = await Promise.all([...topics.keys()].map(async (topic) => [topic, counterOf(await commands.wireboxKeep(seqKey(topic), String(known.get(topic) ?? 0), keyTtl))] as const))
      for (const [topic, counter] of counters) {
        const state = topics.get(topic)
        if (state !== undefined && counter > state.last) enqueue(topic, async (s) => { await catchUp(topic, s, counter) })
      }
    } catch (err) {
      report(err as Error)
    } finally {
      keeping = false
    }
  }
  const keeper = setInterval(() => { keep().catch(report) }, Math.ceil(keyTtl / 3))
  keeper.unref()
  commands.on('ready', () => { keep().catch(report) })

  const currentSeq = async (topic: string): Promise<number> => {
    checkTopic(topic)
    const seq = Math.max(counterOf(await commands.get(seqKey(topic))), known.get(topic) ?? 0)
    see(topic, seq)
    return seq
  }

  return {
    name: 'redis',
    attach (l) { listener = l },
    async publish (message) {
      checkTopic(message.topic)
      const data = Buffer.from(codec.encode(toWire(message)))
      const reply = await commands.wireboxPublish(seqKey(message.topic), streamKey(message.topic), channelOf(message.topic), data, historySize, String(known.get(message.topic) ?? 0), keyTtl)
      const seq = parseSeq(String(reply))
      if (seq === undefined) throw new Error(`wirebox redis broker: the publish script answered ${String(reply)}, not a seq`)
      see(message.topic, seq)
      return seq
    },
    async listen (topic) {
      checkTopic(topic)
      if (topics.has(topic)) return
      let ready!: () => void
      const state: TopicState = { last: Number.MAX_SAFE_INTEGER, chain: new Promise<void>((resolve) => { ready = resolve }) }
      topics.set(topic, state)
      try {
        // A SUBSCRIBE sent before ioredis's ready check completes is lost with that connection.
        if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve))
        await subscriber.subscribe(channelOf(topic))
        state.last = await currentSeq(topic)
      } catch (err) {
        // Not listening after all: a later listen tries again.
        if (topics.get(topic) === state) topics.delete(topic)
        throw err
      } finally {
        ready()
      }
    },
    async unlisten (topic) {
      if (!topics.delete(topic)) return
      await subscriber.unsubscribe(channelOf(topic))
    },
    currentSeq,
    async history (topic, since): Promise<HistorySlice> {
      checkTopic(topic)
      if (!Number.isSafeInteger(since) || since < 0) throw new TypeError('wirebox redis broker: since must be a non-negative integer')
      const current = await currentSeq(topic)
      if (since >= current) {
        let firstSeq = current + 1
        if (since > current) {
          const [oldest] = await commands.xrange(streamKey(topic), '-', '+', 'COUNT', 1)
          firstSeq = parseSeq(oldest?.[0].replace(/-0$/, '') ?? '') ?? firstSeq
        }
        return { messages: [], currentSeq: current, firstSeq, complete: since === current }
      }
      // Replayed: the readable, young enough messages up to the current seq, without a hole.
      const oldest = Date.now() - ttl
      const messages: TopicMessage[] = []
      for (const read of await readStream(topic, since + 1, current)) {
        if (!('message' in read) || read.message.timestamp < oldest) {
          messages.length = 0
          continue
        }
        if (messages.length > 0 && read.seq !== (messages.at(-1) as TopicMessage).seq + 1) messages.length = 0
        messages.push(read.message)
      }
      if (messages.at(-1)?.seq !== current) messages.length = 0
      const firstSeq = messages[0]?.seq ?? current + 1
      return { messages, currentSeq: current, firstSeq, complete: firstSeq === since + 1 }
    },
    stats: () => ({ ...stats }),
    async close () {
      clearInterval(keeper)
      topics.clear()
      subscriber.disconnect()
      commands.disconnect()
    }
  }
}
