/**
 * What the Redis broker writes to Redis and reads back: a topic message as MessagePack
 * `{ e, p, t, r, a }` (event type, payload, timestamp, priority, ack), sent on the topic's
 * channel as `<seq>:<bytes>` and kept in its stream as entry `<seq>-0` with field `m`. Redis is
 * untrusted input: everything read back is checked here, structurally, before use (the payload
 * is checked against the protocol by the topics layer).
 */
import type { Codec } from '../core/codec.js'
import type { TopicMessage } from './broker.js'

/** A topic message as stored in Redis. */
interface Wire {
  /** Event type. */
  e: string
  /** Payload. */
  p: unknown
  /** Timestamp, ms since the Unix epoch. */
  t: number
  /** Priority. */
  r: boolean
  /** ACK required. */
  a: boolean
}

/** What was read back: a message, or why it is malformed. */
export type Read = { seq: number, message: TopicMessage } | { seq: number, malformed: string }

const SEQ = /^[1-9][0-9]{0,15}$/
const COLON = 0x3a
// Longest `<seq>:` prefix: 16 digits and the colon.
const MAX_PREFIX = 17

/** A seq written as decimal digits (no sign, no leading zero, no exponent), 1 to 2^53 - 1; else undefined. */
export function parseSeq (text: string): number | undefined {
  if (!SEQ.test(text)) return undefined
  const seq = Number(text)
  return Number.isSafeInteger(seq) ? seq : undefined
}

/** The Wire form of a message; a TypeError when its fields cannot be read back (PROTOCOL.md section 4). */
export function toWire (message: Omit<TopicMessage, 'seq' | 'topic'>): Wire {
  const wire: Wire = { e: message.eventType, p: message.payload, t: message.timestamp, r: message.priority, a: message.ack }
  const problem = wireProblem(wire)
  if (problem !== undefined) throw new TypeError(`wirebox redis broker: cannot publish: ${problem}`)
  return wire
}

/** Why `value` is not a Wire, or undefined when it is one. */
function wireProblem (value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a map'
  const wire = value as Partial<Wire>
  if (typeof wire.e !== 'string' || wire.e.length === 0) return 'the event type is not a non-empty string'
  if (typeof wire.t !== 'number' || !Number.isSafeInteger(wire.t) || wire.t < 0) return 'the timestamp is not a non-negative integer'
  if (typeof wire.r !== 'boolean') return 'the priority is not a boolean'
  if (typeof wire.a !== 'boolean') return 'the ack flag is not a boolean'
  return undefined
}

/** Decodes and checks message bytes read from Redis. */
export function readMessage (codec: Codec, topic: string, seq: number, data: Uint8Array): Read {
  let wire: unknown
  try {
    wire = codec.decode(data)
  } catch (err) {
    return { seq, malformed: (err as Error).message }
  }
  const problem = wireProblem(wire)
  if (problem !== undefined) return { seq, malformed: problem }
  const { e, p, t, r, a } = wire as Wire
  return { seq, message: { topic, seq, eventType: e, payload: p, timestamp: t, priority: r, ack: a } }
}

/** Splits a pub/sub message `<seq>:<bytes>`; undefined when it has no valid seq. */
export function splitPublished (payload: Buffer): { seq: number, data: Buffer } | undefined {
  const colon = payload.subarray(0, MAX_PREFIX).indexOf(COLON)
  if (colon < 1) return undefined
  const seq = parseSeq(payload.subarray(0, colon).toString('latin1'))
  return seq === undefined ? undefined : { seq, data: payload.subarray(colon + 1) }
}

/** Reads a stream entry (id `<seq>-0`, fields `m <bytes>`); undefined when its id is not a seq. */
export function readEntry (codec: Codec, topic: string, id: Buffer, fields: Buffer[]): Read | undefined {
  const text = id.toString('latin1')
  if (!text.endsWith('-0')) return undefined
  const seq = parseSeq(text.slice(0, -2))
  if (seq === undefined) return undefined
  const [name, data] = fields
  if (fields.length !== 2 || name?.toString('latin1') !== 'm' || data === undefined) return { seq, malformed: 'not a wirebox stream entry' }
  return readMessage(codec, topic, seq, data)
}

/** The topic whose channel is exactly `channel` (`prefix` then the topic in UTF-8), or undefined. */
export function topicOfChannel (prefix: Buffer, channel: Buffer): string | undefined {
  if (channel.length <= prefix.length || !channel.subarray(0, prefix.length).equals(prefix)) return undefined
  const bytes = channel.subarray(prefix.length)
  const topic = bytes.toString('utf8')
  // Invalid UTF-8 decodes to U+FFFD: such a channel is no topic's, not the topic with U+FFFD.
  return Buffer.from(topic, 'utf8').equals(bytes) ? topic : undefined
}
