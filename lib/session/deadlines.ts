/**
 * Timeouts for many things at once with one timer: each entry has a deadline, and the timer is
 * armed for the earliest one. Settling an entry costs a Map delete, not a clearTimeout: the timer
 * is left to fire, finds nothing due, and re-arms for the next deadline (with equal timeouts, about
 * once per timeout period however many entries come and go).
 */

// setTimeout's longest delay.
const MAX_DELAY_MS = 0x7fffffff

/** Entries with deadlines, keyed by id. */
export class Deadlines<K> {
  readonly #due = new Map<K, { at: number, expire: () => void }>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #armedFor = Infinity

  /** Entries waiting. */
  get size (): number {
    return this.#due.size
  }

  /** Calls `expire` after `timeoutMs` unless `delete(key)` comes first. */
  add (key: K, timeoutMs: number, expire: () => void): void {
    const at = performance.now() + timeoutMs
    this.#due.set(key, { at, expire })
    if (at < this.#armedFor) this.#arm(at)
  }

  /** Forgets `key`; returns whether it was waiting. */
  delete (key: K): boolean {
    return this.#due.delete(key)
  }

  #arm (at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#armedFor = at
    this.#timer = setTimeout(this.#fire, Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(at - performance.now()))))
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#armedFor = Infinity
    const now = performance.now()
    let next = Infinity
    for (const [key, entry] of this.#due) {
      if (entry.at <= now) {
        this.#due.delete(key)
        entry.expire()
      } else if (entry.at < next) {
        next = entry.at
      }
    }
    if (next !== Infinity && next < this.#armedFor) this.#arm(next)
  }
}
