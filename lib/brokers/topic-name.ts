/**
 * Which topic names a broker accepts. A topic is a Redis key and channel name (UTF-8), so it must
 * be well-formed UTF-16: a lone surrogate would become U+FFFD there, and two topics one key.
 */
import { utf8Length } from '../core/bytes.js'

/**
 * The longest topic, in UTF-8 bytes: 3072, so that every topic a SUBSCRIBE may carry (at most
 * 1024 UTF-16 code units, schemas/subscription.ts) fits, whatever its characters.
 */
export const MAX_TOPIC_BYTES = 3072

const LONE_SURROGATE = /\p{Cs}/u

/** True when `topic` is a non-empty, well-formed UTF-16 string of at most MAX_TOPIC_BYTES UTF-8 bytes. */
export function isWellFormedTopic (topic: string): boolean {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_BYTES) return false
  return !LONE_SURROGATE.test(topic) && utf8Length(topic) <= MAX_TOPIC_BYTES
}
