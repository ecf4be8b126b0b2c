/**
 * What waits for the client's next connection: calls made while it was connecting or
 * reconnecting (with `queueWhileConnecting`), and `ready()` callers. They run, or fail, together.
 */
import type { Negotiation } from '../../schemas/negotiation.js'

/** Calls and `ready()` callers waiting for the connection. */
export class WaitingCalls {
  #calls: Array<{ run: () => void, fail: (error: Error) => void }> = []
  #ready: Array<{ resolve: (n: Negotiation) => void, reject: (e: Error) => void }> = []

  /** Calls waiting now. */
  get size (): number {
    return this.#calls.length
  }

  /** Runs `run` once the connection is open; rejects if it fails first. */
  async call<T> (run: () => Promise<T>): Promise<T> {
    return await new Promise<T>((resolve, reject) => this.#calls.push({ run: () => { run().then(resolve, reject) }, fail: reject }))
  }

  /** Resolves with the negotiation once the connection is open. */
  async ready (): Promise<Negotiation> {
    return await new Promise((resolve, reject) => this.#ready.push({ resolve, reject }))
  }

  /** The connection is open: everything waiting runs, in order. */
  open (negotiation: Negotiation): void {
    for (const item of this.#calls.splice(0)) item.run()
    for (const waiter of this.#ready.splice(0)) waiter.resolve(negotiation)
  }

  /** Everything waiting fails with `error()`. */
  fail (error: () => Error): void {
    for (const item of this.#calls.splice(0)) item.fail(error())
    for (const waiter of this.#ready.splice(0)) waiter.reject(error())
  }
}
