/**
 * Topic names (PROTOCOL.md "Subscriptions"): a non-empty string of well-formed UTF-16, at most
 * MAX_TOPIC_BYTES bytes of UTF-8. A lone surrogate would become U+FFFD in every broker that
 * stores UTF-8 (Redis keys and channels), merging two topics into one: it is refused everywhere.
 */
import { utf8Length } from '../core/bytes.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { clip } from '../server/bounded-log.js'

/**
 * The longest topic, in UTF-8 bytes: 3072, so that every topic a SUBSCRIBE may carry (at most
 * 1024 UTF-16 code units, schemas/subscription.ts) fits, whatever its characters.
 */
export const MAX_TOPIC_BYTES = 3072

const LONE_SURROGATE = /\p{Cs}/u

/** The catalog error for a bad topic name, or undefined when it is fine. */
export function topicProblem (topic: unknown): WireboxError | undefined {
  let reason: string | undefined
  if (typeof topic !== 'string' || topic.length === 0) reason = 'a topic is a non-empty string'
  else if (topic.length > MAX_TOPIC_BYTES || utf8Length(topic) > MAX_TOPIC_BYTES) reason = `"${clip(topic)}" is longer than ${MAX_TOPIC_BYTES} UTF-8 bytes`
  else if (LONE_SURROGATE.test(topic)) reason = `"${clip(topic)}" is not well-formed Unicode (lone surrogate)`
  if (reason === undefined) return undefined
  const err = new errors.WIREBOX_ERR_INVALID_TOPIC(reason)
  err.details = { path: '/payload/topic' }
  return err
}

/** True when `topic` is a non-empty, well-formed UTF-16 string of at most MAX_TOPIC_BYTES UTF-8 bytes. */
export function isWellFormedTopic (topic: string): boolean {
  return topicProblem(topic) === undefined
}
