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

/** Error details with every string clipped and anything but primitives left out. */
export function clipDetails (details: unknown): Record<string, string | number | boolean> | undefined {
  if (typeof details !== 'object' || details === null) return undefined
  const out: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string') out[key] = clip(value)
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = value
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
