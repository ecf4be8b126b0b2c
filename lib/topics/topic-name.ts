/**
 * Topic names (PROTOCOL.md "Subscriptions"): a non-empty string of well-formed UTF-16 (no lone
 * surrogate, which every broker would turn into U+FFFD and so merge with another topic), at most
 * MAX_TOPIC_BYTES bytes of UTF-8.
 */
import { utf8Length } from '../core/bytes.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { clip } from '../server/bounded-log.js'

/** Longest topic name in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 1024

/** True when `text` has no lone surrogate. */
export function isWellFormed (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c > 0xdbff) return false
    const next = text.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false
    i++
  }
  return true
}

/** The catalog error for a bad topic name, or undefined when it is fine. */
export function topicProblem (topic: unknown): WireboxError | undefined {
  let reason: string | undefined
  if (typeof topic !== 'string' || topic.length === 0) reason = 'a topic is a non-empty string'
  else if (!isWellFormed(topic)) reason = `"${clip(topic)}" is not well-formed Unicode (lone surrogate)`
  else if (topic.length > MAX_TOPIC_BYTES || utf8Length(topic) > MAX_TOPIC_BYTES) reason = `"${clip(topic)}" is longer than ${MAX_TOPIC_BYTES} bytes`
  if (reason === undefined) return undefined
  const err = new errors.WIREBOX_ERR_INVALID_TOPIC(reason)
  err.details = { path: '/payload/topic' }
  return err
}
