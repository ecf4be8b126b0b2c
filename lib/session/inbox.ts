/**
 * Incoming messages of one connection, handled in the order they arrived: each is decoded (a
 * large one may inflate in the thread pool) and handed over before the next. Both ends use it.
 */
import type { DecodedMessage } from '../core/wire.js'

/** What an inbox does with what arrives. */
export interface InboxHandlers {
  /** Decodes one WebSocket message (undefined: a chunk of a message not yet complete). */
  decode: (input: Uint8Array | string) => Promise<DecodedMessage | undefined>
  /** Handles one message; may return a promise to hold the next one back until it settles. */
  handle: (message: DecodedMessage) => void | Promise<void>
  /** A message that could not be decoded, or a handler that failed. */
  fail: (error: unknown) => void
  /** Before each message: a promise to wait for (e.g. back-pressure), or undefined. */
  gate?: () => Promise<void> | undefined
  /** Whether messages are still wanted (false once the connection closed). */
  open: () => boolean
}

/** An ordered chain of incoming messages. */
export class Inbox {
  readonly #handlers: InboxHandlers
  #tail: Promise<void> = Promise.resolve()

  constructor (handlers: InboxHandlers) {
    this.#handlers = handlers
  }

  /** Queues one WebSocket message behind those before it. */
  push (input: Uint8Array | string): void {
    const h = this.#handlers
    this.#tail = this.#tail.then(async () => {
      const waiting = h.gate?.()
      if (waiting !== undefined) await waiting
      if (!h.open()) return
      let message: DecodedMessage | undefined
      try {
        message = await h.decode(input)
      } catch (err) {
        h.fail(err)
        return
      }
      if (message !== undefined) await h.handle(message)
    }).catch((err: unknown) => h.fail(err))
  }
}
