/**
 * The Redis broker (ioredis): several Fastify instances share topics. One Lua script per publish
 * assigns the seq (INCR, never below what any instance has seen), appends to the topic's Redis
 * Stream (the history, MAXLEN-bounded) and PUBLISHes once; each instance listening to the topic
 * receives it once, in seq order. A gap (a lost pub/sub message, a reconnection) is filled from
 * the stream; what the stream no longer has is reported as a gap. Malformed messages are dropped
 * and counted.
 */
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { createMessagePackCodec } from '../core/msgpack-codec.js'
import { HISTORY_DEFAULTS } from './broker.js'
import type { Broker, BrokerListener, HistoryOptions, HistorySlice, TopicMessage } from './broker.js'
import { isWellFormedTopic, MAX_TOPIC_BYTES } from './topic-name.js'
import { topicOfChannel } from './redis-wire.js'

/** Options of the Redis broker. */
export interface RedisBrokerOptions extends HistoryOptions {
  /** Redis URL (default: `REDIS_URL`, else redis://127.0.0.1:6379). */
  url?: string
  /** Key and channel prefix (default 'wirebox'). */
  prefix?: string
  /** ioredis options for both connections (default: ioredis's, with unlimited reconnection). */
  redis?: RedisOptions
  /** Told about faults: malformed messages, gaps, failed replays (default: ignored, but counted). */
  onError?: (error: Error) => void
}

// KEYS: seq key, stream key. ARGV: channel, message bytes, MAXLEN, lowest acceptable seq - 1.
const PUBLISH = `
local seq = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[4])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then
  local lastSeq = tonumber(string.match(last[1][1], '^(%d+)'))
  if lastSeq > floor then floor = lastSeq end
end
if seq <= floor then
  seq = floor + 1
  redis.call('SET', KEYS[1], seq)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', ARGV[2])
redis.call('PUBLISH', ARGV[1], seq .. ':' .. ARGV[2])
return seq
`

interface Wire {
  e: string
  p: unknown
  t: number
  r: boolean
  a: boolean
}

type RedisWithPublish = Redis & {
  wireboxPublish: (seqKey: string, streamKey: string, channel: string, data: Buffer, maxLen: number, floor: number) => Promise<number>
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
  const report = options.onError ?? (() => {})
  const redisOptions: RedisOptions = { maxRetriesPerRequest: null, ...options.redis }
  const commands = new Redis(url, redisOptions) as RedisWithPublish
  const subscriber = new Redis(url, redisOptions)
  commands.defineCommand('wireboxPublish', { numberOfKeys: 2, lua: PUBLISH })
  commands.on('error', () => {}) // ioredis reconnects; commands wait in its offline queue
  subscriber.on('error', () => {})
  const codec = createMessagePackCodec()
  const stats = { malformed: 0, gaps: 0, replayed: 0 }
  const seqKey = (topic: string): string => `${prefix}:seq:${topic}`
  const streamKey = (topic: string): string => `${prefix}:stream:${topic}`
  const channelOf = (topic: string): string => `${prefix}:msg:${topic}`
  const channelPrefix = Buffer.from(`${prefix}:msg:`)

  let listener: BrokerListener | undefined
  // Per listened topic: the last seq delivered here, and a chain that keeps deliveries in order.
  const topics = new Map<string, { last: number, chain: Promise<void> }>()
  const known = new Map<string, number>() // the highest seq this instance has seen per topic

  const see = (topic: string, seq: number): void => {
    if (seq > (known.get(topic) ?? 0)) known.set(topic, seq)
  }

  const decode = (topic: string, seq: number, data: Buffer): TopicMessage | undefined => {
    try {
      const wire = codec.decode(data) as Wire
      if (typeof wire !== 'object' || wire === null || typeof wire.e !== 'string' || typeof wire.t !== 'number') throw new Error('not a wirebox topic message')
      return { topic, seq, eventType: wire.e, payload: wire.p, timestamp: wire.t, priority: wire.r === true, ack: wire.a === true }
    } catch (err) {
      stats.malformed++
      report(new Error(`wirebox redis broker: malformed message on ${topic} dropped: ${(err as Error).message}`))
      return undefined
    }
  }

  const range = async (topic: string, from: number, to: number | '+'): Promise<TopicMessage[]> => {
    const entries = await commands.xrangeBuffer(streamKey(topic), `${from}-0`, to === '+' ? '+' : `${to}-0`, 'COUNT', historySize)
    const out: TopicMessage[] = []
    for (const [id, fields] of entries) {
      const seq = Number.parseInt(id.toString(), 10)
      const data = fields[1]
      const message = data === undefined ? undefined : decode(topic, seq, data)
      if (message !== undefined) out.push(message)
    }
    return out
  }

  /** Delivers `message`, first filling any gap before it from the stream. */
  const deliver = async (topic: string, message: TopicMessage | undefined, upTo: number): Promise<void> => {
    const state = topics.get(topic)
    if (state === undefined || upTo <= state.last) return
    if (upTo > state.last + 1) {
      const missing = await range(topic, state.last + 1, message === undefined ? '+' : upTo - 1)
      for (const m of missing) {
        if (m.seq <= state.last) continue
        if (m.seq > state.last + 1) {
          stats.gaps++
          listener?.gap(topic, state.last + 1, m.seq - 1)
        }
        stats.replayed++
        state.last = m.seq
        see(topic, m.seq)
        listener?.message(m)
      }
      if (message !== undefined && state.last < message.seq - 1) {
        stats.gaps++
        listener?.gap(topic, state.last + 1, message.seq - 1)
      }
    }
    if (message === undefined || message.seq <= state.last) return
    state.last = message.seq
    see(topic, message.seq)
    listener?.message(message)
  }

  const enqueue = (topic: string, work: () => Promise<void>): void => {
    const state = topics.get(topic)
    if (state === undefined) return
    state.chain = state.chain.then(work).catch((err: Error) => report(err))
  }

  subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
    const topic = topicOfChannel(channelPrefix, channel)
    if (topic === undefined) {
      stats.malformed++
      report(new Error(`wirebox redis broker: message on channel ${channel.toString('hex')}, which is no topic's, dropped`))
      return
    }
    const colon = payload.indexOf(0x3a)
    const seq = colon > 0 && colon < 17 ? Number(payload.subarray(0, colon).toString()) : NaN
    if (!Number.isSafeInteger(seq) || seq < 1) {
      stats.malformed++
      report(new Error(`wirebox redis broker: malformed message on ${topic} dropped: no seq`))
      return
    }
    const message = decode(topic, seq, payload.subarray(colon + 1))
    see(topic, seq)
    // A malformed message still moves the seq on: the gap logic must not ask for it again.
    enqueue(topic, async () => await deliver(topic, message, seq))
  })

  // After a reconnection, what was published meanwhile is replayed from the streams.
  subscriber.on('ready', () => {
    for (const topic of topics.keys()) enqueue(topic, async () => await deliver(topic, undefined, Number.MAX_SAFE_INTEGER))
  })

  const currentSeq = async (topic: string): Promise<number> => {
    checkTopic(topic)
    const value = await commands.get(seqKey(topic))
    const seq = Math.max(value === null ? 0 : Number(value), known.get(topic) ?? 0)
    see(topic, seq)
    return seq
  }

  return {
    name: 'redis',
    attach (l) { listener = l },
    async publish (message) {
      checkTopic(message.topic)
      const wire: Wire = { e: message.eventType, p: message.payload, t: message.timestamp, r: message.priority, a: message.ack }
      const data = Buffer.from(codec.encode(wire))
      const seq = Number(await commands.wireboxPublish(seqKey(message.topic), streamKey(message.topic), channelOf(message.topic), data, historySize, known.get(message.topic) ?? 0))
      see(message.topic, seq)
      return seq
    },
    async listen (topic) {
      checkTopic(topic)
      if (topics.has(topic)) return
      let ready!: () => void
      const state = { last: Number.MAX_SAFE_INTEGER, chain: new Promise<void>((resolve) => { ready = resolve }) }
      topics.set(topic, state)
      try {
        // A SUBSCRIBE sent before ioredis's ready check completes is lost with that connection.
        if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve))
        await subscriber.subscribe(channelOf(topic))
        state.last = await currentSeq(topic)
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
      const current = await currentSeq(topic)
      const oldest = Date.now() - ttl
      const alive = (m: TopicMessage): boolean => m.timestamp >= oldest
      const messages = since >= current ? [] : (await range(topic, since + 1, '+')).filter(alive)
      let firstSeq = messages[0]?.seq ?? current + 1
      if (since > current) {
        const [oldest] = await commands.xrange(streamKey(topic), '-', '+', 'COUNT', 1)
        if (oldest !== undefined) firstSeq = Number.parseInt(oldest[0], 10)
      }
      const complete = since <= current && (since === current || (messages[0]?.seq === since + 1))
      return { messages: messages.filter((m) => m.seq <= current), currentSeq: current, firstSeq, complete }
    },
    stats: () => ({ ...stats }),
    async close () {
      topics.clear()
      subscriber.disconnect()
      commands.disconnect()
    }
  }
}
