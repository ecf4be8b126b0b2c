/** The client's listeners: events by name, state changes, errors, topic gaps. */
import type { ClientState, EventMeta } from './types.js'
import type { TopicGap } from './topic-cursors.js'

type Listener = (payload: unknown, meta: EventMeta) => void | Promise<void>

/** Who listens to what, and how each is told. */
export class ClientListeners {
  readonly #events = new Map<string, Set<Listener>>()
  // Created with their first listener (most clients use one or two kinds).
  #state: Set<(state: ClientState) => void> | undefined
  #errors: Set<(error: Error) => void> | undefined
  #gaps: Set<(gap: TopicGap) => void> | undefined

  /** Adds an event listener; returns a function that removes it. */
  onEvent (event: string, listener: Listener): () => void {
    let set = this.#events.get(event)
    if (set === undefined) {
      set = new Set()
      this.#events.set(event, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Adds a state listener; returns a function that removes it. */
  onState (listener: (state: ClientState) => void): () => void {
    const set = this.#state ??= new Set()
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Adds an error listener; returns a function that removes it. */
  onError (listener: (error: Error) => void): () => void {
    const set = this.#errors ??= new Set()
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Adds a gap listener; returns a function that removes it. */
  onGap (listener: (gap: TopicGap) => void): () => void {
    const set = this.#gaps ??= new Set()
    set.add(listener)
    return () => set.delete(listener)
  }

  /**
   * Runs the listeners of an event, now; each failure (a throw, a rejection) goes to `report`.
   * Returns whether all succeeded: at once when every listener returned, else as a promise
   * settled once all have.
   */
  event (name: string, payload: unknown, meta: EventMeta, report: (error: Error) => void): boolean | Promise<boolean> {
    const set = this.#events.get(name)
    if (set === undefined) return true
    let pending: Array<Promise<boolean>> | undefined
    let ok = true
    const failed = (err: unknown): false => {
      report(err as Error)
      return false
    }
    for (const listener of [...set]) {
      try {
        const run = listener(payload, meta)
        // Any thenable counts (another realm's Promise, a library's): its outcome is awaited.
        if (typeof (run as { then?: unknown } | undefined)?.then === 'function') (pending ??= []).push(Promise.resolve(run).then(() => true, failed))
      } catch (err) {
        ok = failed(err)
      }
    }
    if (pending === undefined) return ok
    return Promise.all(pending).then((results) => ok && results.every(Boolean))
  }

  /** Tells the state listeners. */
  state (state: ClientState): void {
    for (const listener of this.#state ?? []) listener(state)
  }

  /** Tells the gap listeners (a listener that throws is reported as an error). */
  gap (gap: TopicGap): void {
    for (const listener of this.#gaps ?? []) {
      try {
        listener(gap)
      } catch (err) {
        this.error(err as Error)
      }
    }
  }

  /** Tells the error listeners. */
  error (error: Error): void {
    for (const listener of this.#errors ?? []) {
      try {
        listener(error)
      } catch {
        // An error listener that throws has nobody left to tell; the others still hear it.
      }
    }
  }
}
