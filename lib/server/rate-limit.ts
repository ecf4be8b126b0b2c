/**
 * A per-connection rate limit: two token buckets (messages and bytes) refilled continuously, and
 * a count of rejections within the current second to detect sustained abuse.
 */
import type { RateLimitOptions } from '../options.js'

/** The verdict on one message. */
type RateVerdict = 'ok' | 'reject' | 'close'

/** Token buckets for one connection. */
export class RateLimiter {
  readonly #options: Required<RateLimitOptions>
  #messages: number
  #bytes: number
  #last: number
  #windowStart: number
  #rejected = 0

  constructor (options: Required<RateLimitOptions>, now: number = performance.now()) {
    this.#options = options
    this.#messages = options.burstMessages
    this.#bytes = options.burstBytes
    this.#last = now
    this.#windowStart = now
  }

  /** Takes one message of `size` bytes; `close` once rejections in one second pass `closeAfter`. */
  take (size: number, now: number = performance.now()): RateVerdict {
    const o = this.#options
    const elapsed = (now - this.#last) / 1000
    this.#last = now
    this.#messages = Math.min(o.burstMessages, this.#messages + elapsed * o.messagesPerSecond)
    this.#bytes = Math.min(o.burstBytes, this.#bytes + elapsed * o.bytesPerSecond)
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now
      this.#rejected = 0
    }
    if (this.#messages >= 1 && this.#bytes >= size) {
      this.#messages -= 1
      this.#bytes -= size
      return 'ok'
    }
    this.#rejected++
    return this.#rejected > o.closeAfter ? 'close' : 'reject'
  }
}
