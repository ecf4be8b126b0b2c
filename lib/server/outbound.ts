/**
 * The outbound policy of one connection (PROTOCOL.md section 6, "send buffer"): writes frames
 * with back-pressure. Above the high-water mark droppable messages are dropped and counted (the
 * `drop` policy) or the connection is closed (`close`); reading from the client pauses until the
 * buffer drains, so a client that does not read cannot make the server answer more.
 */
import type { WebSocket } from 'ws'
import type { EncodedMessage } from '../core/wire.js'
import type { BackpressureOptions } from '../options.js'
import type { Metrics } from '../metrics.js'
import { coalesceWrites, flushCoalesced } from '../platform/coalesce-writes.js'
import { channels } from './diagnostics.js'
import type { MessageTrace } from './diagnostics.js'
import { frameSenderOf, idle, wsFramesOf } from './ws-frames.js'
import type { FrameSender } from './ws-frames.js'

const BINARY = Object.freeze({ binary: true })
const TEXT = Object.freeze({ binary: false })

// How often a congested connection's send buffer is checked (ws has no drain event of its own).
const DRAIN_POLL_MS = 10

/** What the policy needs of its connection. */
export interface OutboundOwner {
  /** True once closed or closing: nothing more is written. */
  finished: () => boolean
  /** The `close` policy: the client does not read. */
  slowConsumer (highWaterMark: number): void
  /** How diagnostics name the connection. */
  readonly trace: { session: string, path: string }
}

/** One connection's writes and back-pressure. */
export class Outbound {
  readonly #socket: WebSocket
  readonly #options: Readonly<Required<BackpressureOptions>>
  readonly #metrics: Metrics
  readonly #owner: OutboundOwner
  /** ws's sender, where whole prebuilt frames can be written through it (ws-frames.ts). */
  readonly #sender: FrameSender | undefined
  #drainWaiters: Array<() => void> | undefined
  #drainPoll: ReturnType<typeof setInterval> | undefined

  constructor (socket: WebSocket, options: Readonly<Required<BackpressureOptions>>, metrics: Metrics, owner: OutboundOwner) {
    this.#socket = socket
    this.#options = options
    this.#metrics = metrics
    this.#owner = owner
    this.#sender = frameSenderOf(socket)
  }

  /** True while the send buffer is above the high-water mark (with the `close` policy, the connection is closed). */
  get congested (): boolean {
    if (this.#owner.finished()) return false
    if (this.#socket.bufferedAmount <= this.#options.highWaterMark) return false
    // Answers held back to be written together are not a client that does not read.
    flushCoalesced(this.#socket)
    if (this.#socket.bufferedAmount <= this.#options.highWaterMark) return false
    if (this.#options.policy === 'close') this.#owner.slowConsumer(this.#options.highWaterMark)
    return true
  }

  /** Writes one encoded message; false when it was dropped or the connection is finished. */
  write (encoded: EncodedMessage, type: number, droppable: boolean, eventType?: string): boolean {
    if (this.#owner.finished() || this.#socket.readyState !== this.#socket.OPEN) return false
    // Above the high-water mark only what may be dropped is, and `close` closes.
    if ((droppable || this.#options.policy === 'close') && this.congested) {
      if (this.#owner.finished()) return false
      if (droppable) {
        this.#metrics.dropped++
        return false
      }
    }
    const sender = this.#sender
    if (sender !== undefined && idle(sender)) {
      // WebSocket frames made once per message, however many sockets send it (a topic message).
      sender.sendFrame(wsFramesOf(encoded))
    } else {
      for (const frame of encoded.frames) this.#socket.send(frame, typeof frame === 'string' ? TEXT : BINARY)
    }
    this.#metrics.sent(type, encoded.wireSize, encoded.bodySize)
    if (channels.messageOut.hasSubscribers) {
      channels.messageOut.publish({ ...this.#owner.trace, type, eventType, wireBytes: encoded.wireSize, bodyBytes: encoded.bodySize } satisfies MessageTrace)
    }
    return true
  }

  /** Writes until the current operation ends reach the TCP socket together (coalesce-writes.ts). */
  coalesce (): void {
    coalesceWrites(this.#socket)
  }

  /** Runs `fn` once the send buffer has drained below half the high-water mark (never, if the connection closes first). */
  whenDrained (fn: () => void): void {
    (this.#drainWaiters ??= []).push(fn)
    if (this.#drainPoll !== undefined) return
    // Poll while someone waits, and only then.
    this.#drainPoll = setInterval(() => {
      if (this.#owner.finished()) return this.stop()
      if (this.#socket.bufferedAmount > this.#options.highWaterMark / 2) return
      const waiters = this.#drainWaiters ?? []
      this.#drainWaiters = undefined
      this.stop()
      for (const waiter of waiters) waiter()
    }, DRAIN_POLL_MS)
    this.#drainPoll.unref()
  }

  /** Stops reading from the client until the send buffer drains; undefined when it need not wait. */
  readGate (): Promise<void> | undefined {
    if (!this.congested) return undefined
    this.#socket.pause()
    return new Promise<void>((resolve) => this.whenDrained(() => {
      if (!this.#owner.finished()) this.#socket.resume()
      resolve()
    }))
  }

  /** Stops polling (the connection closed, or nobody waits). */
  stop (): void {
    clearInterval(this.#drainPoll)
    this.#drainPoll = undefined
    if (this.#owner.finished()) this.#drainWaiters = undefined
  }
}
