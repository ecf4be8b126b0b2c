/** The client's listeners: events by name, state changes, errors, topic gaps. */
import type { ClientState, EventMeta } from './types.js'
import type { TopicGap } from './topic-cursors.js'
import { fewDelete, fewGet, fewSet } from '../session/few-map.js'
import type { FewMap } from '../session/few-map.js'

type Listener = (payload: unknown, meta: EventMeta) => void | Promise<void>

const succeeded = (): true => true

/**
 * The listeners of one kind: the listener itself while there is one, else an array, replaced
 * (never changed in place) when one is added or removed.
 */
type List<L extends AnyListener> = L | readonly L[]
type AnyListener = (...args: any[]) => unknown

function added<L extends AnyListener> (list: List<L> | undefined, listener: L): List<L> {
  if (list === undefined) return listener
  if (typeof list === 'function') return list === listener ? list : [list, listener]
  return list.includes(listener) ? list : [...list, listener]
}

function removed<L extends AnyListener> (list: List<L> | undefined, listener: L): List<L> | undefined {
  if (list === undefined || list === listener) return undefined
  if (typeof list === 'function' || !list.includes(listener)) return list
  const rest = list.filter((l) => l !== listener)
  return rest.length === 1 ? rest[0] : rest
}

/** The listeners of a list, as an array (for the kinds told rarely). */
function all<L extends AnyListener> (list: List<L> | undefined): readonly L[] {
  if (list === undefined) return []
  return typeof list === 'function' ? [list] : list
}

/**
 * Who listens to what, and how each is told. Each kind holds a list that is replaced when a
 * listener is added or removed: telling the listeners walks it without a copy (one added or
 * removed meanwhile is not told of what is being delivered, as with a Set copied first), and a
 * kind with one listener costs nothing but the listener. Events go by name in a FewMap: most
 * clients listen to a few.
 */
export class ClientListeners {
  #events: FewMap<List<Listener>>
  // Created with their first listener (most clients use one or two kinds).
  #state: List<(state: ClientState) => void> | undefined
  #errors: List<(error: Error) => void> | undefined
  #gaps: List<(gap: TopicGap) => void> | undefined

  /** Adds an event listener; returns a function that removes it. */
  onEvent (event: string, listener: Listener): () => void {
    this.#events = fewSet(this.#events, event, added(fewGet(this.#events, event), listener))
    return () => {
      const list = removed(fewGet(this.#events, event), listener)
      this.#events = list === undefined ? fewDelete(this.#events, event) : fewSet(this.#events, event, list)
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
    const list = fewGet(this.#events, name)
    if (list === undefined) return true
    if (typeof list === 'function') return tell(list, payload, meta, reporter)
    let pending: Array<Promise<boolean>> | undefined
    let ok = true
    for (const listener of list) {
      const told = tell(listener, payload, meta, reporter)
      if (told instanceof Promise) (pending ??= []).push(told)
      else ok &&= told
    }
    if (pending === undefined) return ok
    return Promise.all(pending).then((results) => ok && results.every(Boolean))
  }

  /** Tells the state listeners. */
  state (state: ClientState): void {
    for (const listener of all(this.#state)) listener(state)
  }

  /** Tells the gap listeners (a listener that throws is reported as an error). */
  gap (gap: TopicGap): void {
    for (const listener of all(this.#gaps)) {
      try {
        listener(gap)
      } catch (err) {
        this.error(err as Error)
      }
    }
  }

  /** Tells the error listeners. */
  error (error: Error): void {
    for (const listener of all(this.#errors)) {
      try {
        listener(error)
      } catch {
        // An error listener that throws has nobody left to tell; the others still hear it.
      }
    }
  }
}

/** Runs one event listener: whether it succeeded, or a promise of it when it returned a thenable; a failure goes to `reporter.report`. */
function tell (listener: Listener, payload: unknown, meta: EventMeta, reporter: { report: (error: Error) => void }): boolean | Promise<boolean> {
  try {
    const run = listener(payload, meta)
    // Any thenable counts (another realm's Promise, a library's): its outcome is awaited.
    if (typeof (run as { then?: unknown } | undefined)?.then !== 'function') return true
    return Promise.resolve(run).then(succeeded, (err: unknown) => {
      reporter.report(err as Error)
      return false
    })
  } catch (err) {
    reporter.report(err as Error)
    return false
  }
}
