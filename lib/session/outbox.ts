/**
 * Outgoing messages of one connection, written in the order they were queued even when a large
 * one is still compressing in the thread pool. A message that is ready while nothing waits ahead
 * of it is written at once, without a promise. Both ends use it.
 */
import type { EncodedMessage } from '../core/wire.js'

/** Writes one encoded message; returns whether it was written. */
export type WriteMessage = (message: EncodedMessage, type: number, droppable: boolean, eventType?: string) => boolean

/** What writes the messages: the server's Outbound, the client's Connection (no closure per connection). */
export interface MessageWriter {
  write: WriteMessage
}

/** An ordered queue of encoded messages. */
export class Outbox {
  readonly #writer: MessageWriter
  // Entries (messages and `after` callbacks) queued and not yet run; 0: the next ready message is written at once.
  #waiting = 0
  // What the next queued entry waits for (undefined until something had to wait).
  #tail: Promise<unknown> | undefined

  constructor (writer: MessageWriter) {
    this.#writer = writer
  }

  /**
   * Queues a message. Returns whether it was written: at once when it is ready and nothing waits
   * ahead of it, else as a promise, which rejects when the message could not be encoded.
   */
  push (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, eventType?: string): boolean | Promise<boolean> {
    if (this.#waiting === 0 && !(encoded instanceof Promise)) return this.#writer.write(encoded, type, droppable, eventType)
    return this.#enqueue(async () => this.#writer.write(await encoded, type, droppable, eventType))
  }

  /** Runs `fn` once everything queued so far is written (e.g. a close after an ERROR). */
  after (fn: () => void): void {
    if (this.#waiting === 0) return fn()
    this.#enqueue(fn).catch(() => {})
  }

  #enqueue<T> (run: () => T | Promise<T>): Promise<T> {
    this.#waiting++
    const done = (this.#tail ?? Promise.resolve()).then(run).finally(() => { this.#waiting-- })
    this.#tail = done.catch(() => {})
    return done
  }
}
