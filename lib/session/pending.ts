/**
 * Replies awaited by id, each with a timeout: requests and subscriptions waiting for their
 * answer, messages sent with ACK_REQUIRED waiting for their ACK. Both ends use it (PROTOCOL.md
 * section 1, "Connection behaviour").
 */

import { deadlines } from './deadlines.js'

interface Entry<T> {
  name: string
  resolve: (value: T) => void
  reject: (error: Error) => void
}

/** A table of awaited replies. */
export class PendingTable<T> {
  // Created with the first wait (an idle connection awaits nothing). Timeouts are the process's
  // `deadlines`, keyed by the entry.
  #entries: Map<number, Entry<T>> | undefined

  /** Replies awaited now. */
  get size (): number {
    return this.#entries?.size ?? 0
  }

  /** Whether a reply to `id` is awaited. */
  has (id: number): boolean {
    return this.#entries?.has(id) ?? false
  }

  /** The name given to `wait` for `id` (the request's or event's name). */
  nameOf (id: number): string | undefined {
    return this.#entries?.get(id)?.name
  }

  /**
   * Awaits the reply to `id`: resolves with what `resolve` is given, rejects with what `reject`
   * is given, or with `timeoutError()` after `timeoutMs`. `onReply` runs as the reply is read,
   * before anything read after it.
   */
  wait (id: number, name: string, timeoutMs: number, timeoutError: () => Error, onReply?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#entries ??= new Map<number, Entry<T>>()
      const entry: Entry<T> = {
        name,
        resolve: onReply === undefined ? resolve : (value) => { onReply(value); resolve(value) },
        reject
      }
      // A wait again for the same id replaces the earlier one (as the map does).
      const earlier = this.#entries.get(id)
      if (earlier !== undefined) deadlines.delete(earlier)
      this.#entries.set(id, entry)
      deadlines.add(entry, timeoutMs, () => this.reject(id, timeoutError()))
    })
  }

  /** Settles `id` with a reply; returns whether it was awaited. */
  resolve (id: number, value: T): boolean {
    const entry = this.#take(id)
    entry?.resolve(value)
    return entry !== undefined
  }

  /** Settles `id` with an error; returns whether it was awaited. */
  reject (id: number, error: Error): boolean {
    const entry = this.#take(id)
    entry?.reject(error)
    return entry !== undefined
  }

  /** Rejects everything awaited (the connection closed). */
  rejectAll (error: () => Error): void {
    for (const id of [...this.#entries?.keys() ?? []]) this.reject(id, error())
  }

  #take (id: number): Entry<T> | undefined {
    const entries = this.#entries
    const entry = entries?.get(id)
    if (entries === undefined || entry === undefined) return undefined
    entries.delete(id)
    // An empty table is dropped: a connection that awaits nothing holds no Map (made again when needed).
    if (entries.size === 0) this.#entries = undefined
    deadlines.delete(entry)
    return entry
  }
}

/** Ids for messages that expect a reply: 1 to 2^32 - 1, wrapping around. */
export class IdCounter {
  #next = 1

  /** The next id. */
  take (): number {
    const id = this.#next
    this.#next = (id + 1) >>> 0 || 1
    return id
  }
}
