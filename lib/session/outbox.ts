/**
 * Outgoing messages of one connection, written in the order they were queued even when a large
 * one is still compressing in the thread pool. Both ends use it.
 */
import type { EncodedMessage } from '../core/wire.js'

/** Writes one encoded message; returns whether it was written. */
export type WriteMessage = (message: EncodedMessage, type: number, droppable: boolean, eventType?: string) => boolean

/** An ordered queue of encoded messages. */
export class Outbox {
  readonly #write: WriteMessage
  #tail: Promise<unknown> = Promise.resolve()

  constructor (write: WriteMessage) {
    this.#write = write
  }

  /** Queues a message; resolves to whether it was written, rejects when it could not be encoded. */
  async push (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, eventType?: string): Promise<boolean> {
    const written = this.#tail.then(async () => this.#write(await encoded, type, droppable, eventType))
    this.#tail = written.catch(() => {})
    return await written
  }

  /** Runs `fn` once everything queued so far is written (e.g. a close after an ERROR). */
  after (fn: () => void): void {
    this.#tail = this.#tail.then(fn).catch(() => {})
  }
}
