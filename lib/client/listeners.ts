/** The client's listeners: events by name, state changes, errors, topic gaps. */
import type { ClientState, EventMeta } from './types.js'
import type { TopicGap } from './topic-cursors.js'

type Listener = (payload: unknown, meta: EventMeta) => void | Promise<void>

const succeeded = (): true => true

/** A list of listeners, replaced (never changed in place) when one is added or removed. */
type List<L> = readonly L[]

function added<L> (list: List<L> | undefined, listener: L): List<L> {
  if (list === undefined) return [listener]
  return list.includes(listener) ? list : [...list, listener]
}

function removed<L> (list: List<L> | undefined, listener: L): List<L> | undefined {
  if (list === undefined || !list.includes(listener)) return list
  return list.length === 1 ? undefined : list.filter((l) => l !== listener)
}

/**
 * Who listens to what, and how each is told. Each kind holds an array that is replaced when a
 * listener is added or removed: telling the listeners walks it without a copy (one added or
 * removed meanwhile is not told of what is being delivered, as with a Set copied first), and a
 * kind with one listener costs one small array, not a Set.
 */
export class ClientListeners {
  readonly #events = new Map<string, List<Listener>>()
  // Created with their first listener (most clients use one or two kinds).
  #state: List<(state: ClientState) => void> | undefined
  #errors: List<(error: Error) => void> | undefined
  #gaps: List<(gap: TopicGap) => void> | undefined

  /** Adds an event listener; returns a function that removes it. */
  onEvent (event: string, listener: Listener): () => void {
    this.#events.set(event, added(this.#events.get(event), listener))
    return () => {
      const list = removed(this.#events.get(event), listener)
      if (list === undefined) this.#events.delete(event)
      else this.#events.set(event, list)
    }
  }

  /** Adds a state listener; returns a function that removes it. */
  onState (listener: (state: ClientState) => void): () => void {
    this.#state = added(this.#state, listener)
    return () => { this.#state = removed(this.#state, listener) }
  }

  /** Adds an error listener; returns a function that removes it. */
  onError (listener: (error: Error) => void): () => void {
    this.#errors = added(this.#errors, listener)
    return () => { this.#errors = removed(this.#errors, listener) }
  }

  /** Adds a gap listener; returns a function that removes it. */
  onGap (listener: (gap: TopicGap) => void): () => void {
    this.#gaps = added(this.#gaps, listener)
    return () => { this.#gaps = removed(this.#gaps, listener) }
  }

  /**
   * Runs the listeners of an event, now; each failure (a throw, a rejection) goes to
   * `reporter.report`. Returns whether all succeeded: at once when every listener returned, else
   * as a promise settled once all have.
   */
  event (name: string, payload: unknown, meta: EventMeta, reporter: { report: (error: Error) => void }): boolean | Promise<boolean> {
    const list = this.#events.get(name)
    if (list === undefined) return true
    let pending: Array<Promise<boolean>> | undefined
    let ok = true
    for (const listener of list) {
      try {
        const run = listener(payload, meta)
        // Any thenable counts (another realm's Promise, a library's): its outcome is awaited.
        if (typeof (run as { then?: unknown } | undefined)?.then === 'function') {
          (pending ??= []).push(Promise.resolve(run).then(succeeded, (err: unknown) => {
            reporter.report(err as Error)
            return false
          }))
        }
      } catch (err) {
        reporter.report(err as Error)
        ok = false
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
