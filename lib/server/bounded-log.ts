/**
 * What the server echoes or logs from a client is bounded (PROTOCOL.md "Limits"): strings from
 * the wire are clipped, and one connection's warnings are rate-limited, so a client cannot make
 * the log or its ERROR answers larger than what it sent.
 */
import type { FastifyBaseLogger } from 'fastify'

/** Characters of a client-supplied string kept in errors and logs (default 128). */
const MAX_ECHOED_CHARS = 128
/** Characters of an error message sent or logged (default 512). */
export const MAX_ERROR_MESSAGE_CHARS = 512
/** Warnings logged per connection per window; more are counted and summarised (default 20). */
export const WARNINGS_PER_WINDOW = 20
/** The warning window in ms (default 10000). */
const WARNING_WINDOW_MS = 10_000

/** `text` cut to `max` characters, with a note of how much was cut. */
export function clip (text: string, max = MAX_ECHOED_CHARS): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}...(${text.length - max} more characters)`
}

/** Items of an array kept in error details (problems, allowed values; default 64). */
const MAX_DETAIL_ITEMS = 64
/** Levels of objects and arrays kept in error details, the details included (default 4). */
const MAX_DETAIL_DEPTH = 4

/** A detail value: a primitive, or an array or object of them. */
export type DetailValue = string | number | boolean | DetailValue[] | { [key: string]: DetailValue }

/**
 * Error details with every string clipped, arrays cut to 64 items, nesting to 4 levels (e.g.
 * `problems: [{ path, message, allowed: [...] }]`), and anything but primitives, arrays and
 * plain objects left out; with `event_type` set to `eventType` when given and not there.
 */
export function clipDetails (details: unknown, eventType?: string): Record<string, DetailValue> | undefined {
  const kept = typeof details !== 'object' || details === null || Array.isArray(details) ? undefined : clipDetail(details, 1) as Record<string, DetailValue>
  // The event or request an error is about, so that a client can tell which of its sends failed.
  if (eventType === undefined || typeof kept?.event_type === 'string') return kept
  return { event_type: clip(eventType), ...kept }
}

function clipDetail (value: unknown, depth: number): DetailValue | undefined {
  if (typeof value === 'string') return clip(value)
  if (typeof value === 'number' || typeof value === 'boolean') return value
  if (typeof value !== 'object' || value === null || depth > MAX_DETAIL_DEPTH) return undefined
  if (Array.isArray(value)) {
    const items: DetailValue[] = []
    for (const item of value.slice(0, MAX_DETAIL_ITEMS)) {
      const kept = clipDetail(item, depth + 1)
      if (kept !== undefined) items.push(kept)
    }
    return items
  }
  const out: Record<string, DetailValue> = {}
  for (const [key, item] of Object.entries(value)) {
    const kept = clipDetail(item, depth + 1)
    if (kept !== undefined) out[key] = kept
  }
  return out
}

/** One connection's logger: warnings and errors rate-limited per window. */
export class ConnectionLog {
  readonly #log: FastifyBaseLogger
  readonly #session: string
  #windowStart = 0
  #count = 0
  #suppressed = 0

  constructor (log: FastifyBaseLogger, session: string) {
    this.#log = log
    this.#session = session
  }

  /** Logs a warning unless this connection used up its window. */
  warn (fields: Record<string, unknown>, message: string): void {
    if (this.#allowed()) this.#log.warn({ session: this.#session, ...fields }, message)
  }

  /** Logs an error unless this connection used up its window. */
  error (fields: Record<string, unknown>, message: string): void {
    if (this.#allowed()) this.#log.error({ session: this.#session, ...fields }, message)
  }

  /** Logs at debug level (not limited: off in production). */
  debug (fields: Record<string, unknown>, message: string): void {
    this.#log.debug({ session: this.#session, ...fields }, message)
  }

  #allowed (): boolean {
    const now = Date.now()
    if (now - this.#windowStart >= WARNING_WINDOW_MS) {
      if (this.#suppressed > 0) {
        this.#log.warn({ session: this.#session, suppressed: this.#suppressed }, 'wirebox: warnings suppressed for this connection')
      }
      this.#windowStart = now
      this.#count = 0
      this.#suppressed = 0
    }
    if (this.#count < WARNINGS_PER_WINDOW) {
      this.#count++
      return true
    }
    this.#suppressed++
    return false
  }
}
