/**
 * Timeouts for many things at once with one timer. Entries with the same timeout expire in the
 * order they were added, so each timeout keeps a first-in-first-out list (a Map, in insertion
 * order) whose first entry is its earliest; the timer is armed for the earliest of those. Settling
 * an entry costs a Map delete, not a clearTimeout: the timer is left to fire, expires what is due
 * from the front of each list, and re-arms for the next deadline. No scan of waiting entries.
 * One instance, `deadlines`, serves every connection of the process (both ends): a connection
 * that awaits nothing holds no timer, list or closure of its own.
 */

// setTimeout's longest delay.
const MAX_DELAY_MS = 0x7fffffff

interface Due {
  at: number
  expire: () => void
}

/** Entries with deadlines, keyed by id. */
export class Deadlines<K> {
  // timeoutMs -> entries in the order they were added (so in deadline order).
  readonly #lists = new Map<number, Map<K, Due>>()
  // key -> its list, to delete it.
  readonly #listOf = new Map<K, Map<K, Due>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #armedFor = Infinity

  /** Entries waiting. */
  get size (): number {
    return this.#listOf.size
  }

  /** Calls `expire` after `timeoutMs` unless `delete(key)` comes first (a key added again starts over). */
  add (key: K, timeoutMs: number, expire: () => void): void {
    this.delete(key)
    let list = this.#lists.get(timeoutMs)
    if (list === undefined) this.#lists.set(timeoutMs, list = new Map())
    const at = performance.now() + timeoutMs
    list.set(key, { at, expire })
    this.#listOf.set(key, list)
    if (at < this.#armedFor) this.#arm(at)
  }

  /** Forgets `key`; returns whether it was waiting. */
  delete (key: K): boolean {
    const list = this.#listOf.get(key)
    if (list === undefined) return false
    this.#listOf.delete(key)
    list.delete(key)
    return true
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
    for (const [timeoutMs, list] of this.#lists) {
      for (const [key, due] of list) {
        if (due.at > now) {
          next = Math.min(next, due.at)
          break
        }
        this.delete(key)
        try {
          due.expire()
        } catch {
          // An expiry handles its own failure; one that does not must not stop the others.
        }
      }
      if (list.size === 0) this.#lists.delete(timeoutMs)
    }
    if (next !== Infinity && next < this.#armedFor) this.#arm(next)
  }
}

/** The process's deadlines, keyed by an object unique to each wait. */
export const deadlines = new Deadlines<object>()
