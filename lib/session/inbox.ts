/**
 * Incoming messages of one connection, handled in the order they arrived: each is decoded (a
 * large one may inflate in the thread pool) and handed over before the next. A message that can
 * be decoded and handled at once is, without a promise; the inbox waits only for what is really
 * pending (a gate, an inflate, a handler that returns a promise). Both ends use it.
 */
import type { DecodedMessage } from '../core/wire.js'

type Decoded = DecodedMessage | undefined

/** What an inbox does with what arrives. */
export interface InboxHandlers {
  /** Decodes one WebSocket message (undefined: a chunk of a message not yet complete); may return a promise. */
  decode: (input: Uint8Array | string) => Decoded | Promise<Decoded>
  /** Handles one message; may return a promise to hold the next one back until it settles. */
  handle: (message: DecodedMessage) => void | Promise<void>
  /** A message that could not be decoded, or a handler that failed. */
  fail: (error: unknown) => void
  /** Before each message: a promise to wait for (e.g. back-pressure), or undefined. */
  gate?: () => Promise<void> | undefined
  /** Whether messages are still wanted (false once the connection closed). */
  open: () => boolean
  /**
   * Bytes that may wait behind a pending message before `pause` is called (and `resume` once
   * half of them are handled): what a peer sends while an earlier message is pending is bounded.
   */
  readonly backlogLimit?: number
  /** Stops reading from the peer (the backlog is over its limit). */
  pause?: () => void
  /** Reads from the peer again. */
  resume?: () => void
}

/** An ordered chain of incoming messages. */
export class Inbox {
  readonly #handlers: InboxHandlers
  // Messages that arrived while an earlier one was pending; undefined while none is.
  #backlog: Array<Uint8Array | string> | undefined
  // True while messages are handled synchronously (a message arriving meanwhile waits its turn).
  #running = false
  // Bytes in the backlog, and whether reading was paused for them.
  #backlogBytes = 0
  #paused = false

  constructor (handlers: InboxHandlers) {
    this.#handlers = handlers
  }

  /** Handles one WebSocket message now, or queues it behind those before it. */
  push (input: Uint8Array | string): void {
    if (this.#backlog !== undefined || this.#running) {
      (this.#backlog ??= []).push(input)
      this.#backlogBytes += sizeOf(input)
      const { backlogLimit, pause } = this.#handlers
      // Called again while over the limit: something else may have resumed reading meanwhile.
      if (pause !== undefined && backlogLimit !== undefined && this.#backlogBytes > backlogLimit) {
        this.#paused = true
        pause.call(this.#handlers)
      }
      return
    }
    this.#run(input)
  }

  /** Handles `input` and then the backlog, until something is pending. */
  #run (input: Uint8Array | string | undefined): void {
    this.#running = true
    try {
      while (input !== undefined) {
        let pending: Promise<void> | undefined
        try {
          pending = this.#step(input)
        } catch (err) {
          // A gate that throws: this message is reported and the next one goes on.
          this.#fail(err)
        }
        if (pending !== undefined) {
          this.#backlog ??= []
          pending.then(() => this.#resume(), () => this.#resume())
          return
        }
        input = this.#next()
      }
      this.#backlog = undefined
    } finally {
      this.#running = false
    }
  }

  #resume (): void {
    const next = this.#next()
    if (next === undefined) this.#backlog = undefined
    else this.#run(next)
  }

  /** The backlog's first message, taken out; reading resumes once half the limit is left. */
  #next (): Uint8Array | string | undefined {
    const next = this.#backlog?.shift()
    if (next === undefined) return undefined
    this.#backlogBytes -= sizeOf(next)
    const h = this.#handlers
    if (this.#paused && this.#backlogBytes <= (h.backlogLimit ?? 0) / 2) {
      this.#paused = false
      h.resume?.()
    }
    return next
  }

  /** One message: undefined when done, or a promise of when it is. */
  #step (input: Uint8Array | string): Promise<void> | undefined {
    const waiting = this.#handlers.gate?.()
    if (waiting !== undefined) return waiting.then(() => this.#decode(input), (err: unknown) => this.#fail(err))
    return this.#decode(input)
  }

  #decode (input: Uint8Array | string): Promise<void> | undefined {
    const h = this.#handlers
    if (!h.open()) return undefined
    let decoded: Decoded | Promise<Decoded>
    try {
      decoded = h.decode(input)
    } catch (err) {
      this.#fail(err)
      return undefined
    }
    if (decoded instanceof Promise) return decoded.then((message) => this.#handle(message), (err: unknown) => this.#fail(err))
    return this.#handle(decoded)
  }

  #handle (message: Decoded): Promise<void> | undefined {
    if (message === undefined) return undefined
    try {
      const handled = this.#handlers.handle(message)
      if (handled instanceof Promise) return handled.catch((err: unknown) => this.#fail(err))
    } catch (err) {
      this.#fail(err)
    }
    return undefined
  }

  /** Reports a failure; a reporter that throws must not stop the inbox (the next message still runs). */
  #fail (err: unknown): void {
    try {
      this.#handlers.fail(err)
    } catch {
      // Nothing more to tell: the failure was the reporter's own.
    }
  }
}

/** A message's size for the backlog's limit (UTF-16 units for text). */
function sizeOf (input: Uint8Array | string): number {
  return typeof input === 'string' ? input.length : input.byteLength
}
