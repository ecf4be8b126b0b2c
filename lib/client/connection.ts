/**
 * One connection of the client: its socket, its session, its ordered inbox, and the encoder and
 * decoder it speaks once negotiated. One object does all of it with methods (it is the inbox's
 * handlers and the context of incoming messages), so that a connection costs a few objects
 * rather than a dozen closures; what belongs to the client (state, listeners, reconnection) is
 * the owner's, reached through symbols.
 */
import type { DecodedMessage, EncodedMessage, MessageDecoder, MessageEncoder } from '../core/wire.js'
import { utf8Length } from '../core/bytes.js'
import type { Platform } from '../core/platform.js'
import type { CodecOptions } from '../core/codec.js'
import { CloseCode, errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { Session } from '../session/session.js'
import type { MessageFields } from '../session/session.js'
import type { PendingTable } from '../session/pending.js'
import { Inbox } from '../session/inbox.js'
import { everyTick, stopTicking } from '../session/ticker.js'
import type { Ticking } from '../session/ticker.js'
import type { InboxHandlers } from '../session/inbox.js'
import type { ClientListeners } from './listeners.js'
import type { TopicCursors } from './topic-cursors.js'
import type { IncomingContext } from './incoming.js'
import { handshakeDecoder } from './negotiated-wire.js'
import { kClosed, kProblem, kReceive, kReport } from './symbols.js'
import type { ClientStats, WebSocketLike } from './types.js'

/** What a connection needs of its client. */
export interface ConnectionOwner {
  readonly stats: ClientStats
  [kReceive]: (connection: Connection, message: DecodedMessage) => void
  [kReport]: (error: Error) => void
  [kProblem]: (kind: 'event' | 'response', name: string | undefined, payload: unknown) => WireboxError | undefined
  [kClosed]: (connection: Connection, code: number) => void
}

/**
 * Attaches a connection to its socket: what arrives goes to `connection.message`, the close code to
 * `connection.closed`, errors nowhere (the close follows). `attachHandlers` is the WebSocket
 * API's way; the Node entry has a cheaper one for `ws`.
 */
export type AttachSocket = (connection: Connection, socket: WebSocketLike) => void

/** What the client shares with each of its connections. */
export interface ConnectionShared {
  listeners: ClientListeners
  topics: TopicCursors
  requests: PendingTable<unknown>
  platform: Platform
  codec: CodecOptions | undefined
  /** Whether incoming payloads are checked (`validateIncoming`). */
  validates: boolean
  attach: AttachSocket
}

const OPEN = 1
const MAX_TIMER_MS = 2 ** 31 - 1

// The socket's error event is followed by its close event, which does the work.
export function ignoreError (): void {}

function notSent (): Error {
  return new errors.WIREBOX_ERR_CONNECTION_CLOSED('the socket closed before sending')
}

function checkWritten (written: boolean): void {
  if (!written) throw notSent()
}

/** A connection of the client, from its socket's creation to its close. */
export class Connection implements InboxHandlers, IncomingContext, Ticking {
  readonly owner: ConnectionOwner
  readonly socket: WebSocketLike
  readonly session: Session
  readonly inbox: Inbox
  readonly shared: ConnectionShared
  /** Set once negotiated. */
  encoder: MessageEncoder | undefined
  /** Set once negotiated (before: the handshake's, made for the first message). */
  decoder: MessageDecoder | undefined
  /** False once the socket closed: nothing more is read, nothing more is sent. */
  live = true
  // The server's heartbeat interval while watched (0: not watched).
  #heartbeatMs = 0
  // Ends the connection if the server has not negotiated in time (set while it has not).
  #negotiationTimer: ReturnType<typeof setTimeout> | undefined

  constructor (owner: ConnectionOwner, socket: WebSocketLike, shared: ConnectionShared) {
    this.owner = owner
    this.socket = socket
    this.shared = shared
    this.session = new Session(this)
    this.inbox = new Inbox(this)
    shared.attach(this, socket)
  }

  get listeners (): ClientListeners { return this.shared.listeners }
  get topics (): TopicCursors { return this.shared.topics }
  get requests (): PendingTable<unknown> { return this.shared.requests }
  get acks (): PendingTable<void> { return this.session.acks }
  get validates (): boolean { return this.shared.validates }

  /** A WebSocket message arrived. */
  message (data: unknown): void {
    if (!this.live) return
    this.session.liveness.seen()
    const input = typeof data === 'string' || data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer)
    this.owner.stats.wireBytesIn += typeof input === 'string' ? utf8Length(input) : input.length
    this.inbox.push(input)
  }

  /** The WebSocket closed with `code`. */
  closed (code: number): void {
    this.watchHeartbeat(0)
    this.negotiated()
    this.owner[kClosed](this, code)
  }

  /**
   * Gives the server `timeoutMs` to open the socket and send its negotiation; a server that
   * accepts the connection and then says nothing is left, the failure reported (0: no limit).
   */
  awaitNegotiation (timeoutMs: number): void {
    if (!(timeoutMs > 0)) return
    this.#negotiationTimer = setTimeout(() => {
      this.#negotiationTimer = undefined
      if (!this.live || this.encoder !== undefined) return
      this.owner[kReport](new errors.WIREBOX_ERR_CONNECTION_CLOSED(`the server sent no negotiation within ${timeoutMs} ms`))
      this.abandon(CloseCode.HEARTBEAT_TIMEOUT, 'no negotiation')
    }, Math.min(timeoutMs, MAX_TIMER_MS))
  }

  /** The negotiation arrived (or the connection closed): no more waiting for it. */
  negotiated (): void {
    clearTimeout(this.#negotiationTimer)
    this.#negotiationTimer = undefined
  }

  /**
   * Watches the server's heartbeat (PROTOCOL.md section 1, "Heartbeat"): the server pings every
   * `intervalMs`, so two intervals of silence close the connection. One timer for every
   * connection of the page or process (ticker.ts); 0 stops watching.
   */
  watchHeartbeat (intervalMs: number): void {
    if (this.#heartbeatMs > 0) stopTicking(this.#heartbeatMs, this)
    // A timer's longest delay: beyond it, timers fire at once (a server's interval is not trusted).
    this.#heartbeatMs = intervalMs > 0 && this.live ? Math.min(intervalMs, MAX_TIMER_MS) : 0
    if (this.#heartbeatMs === 0) return
    this.session.liveness.seen()
    everyTick(this.#heartbeatMs, this)
  }

  /**
   * Ticker: closes the connection once the server has been silent for two intervals. A server
   * that is gone cannot answer a closing handshake: where the socket can, it ends at once (ws
   * would otherwise wait 30 s for the answer before it reports the close). Either way the
   * connection is over now: a socket without `terminate` (a browser's, undici's in Node 22) may
   * never report the close of a gone server, and the client must not wait for it to reconnect
   * (its close event, when it comes, is then that of a connection already closed).
   */
  tick (): void {
    if (this.session.liveness.silent(this.#heartbeatMs)) this.abandon(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
  }

  /** Ends a connection whose server is gone: the socket at once where it can be, and the connection now. */
  abandon (code: number, reason: string): void {
    const socket = this.socket
    if (typeof socket.terminate === 'function') socket.terminate()
    else socket.close(code, reason)
    this.closed(code)
  }

  /** Writes an encoded message to the socket (the session's outbox calls it, in order). */
  write (message: EncodedMessage): boolean {
    if (this.socket.readyState !== OPEN) return false
    for (const frame of message.frames) this.socket.send(frame)
    const stats = this.owner.stats
    stats.messagesOut++
    stats.wireBytesOut += message.wireSize
    stats.bodyBytesOut += message.bodySize
    return true
  }

  /** Sends a message; throws (or rejects) with WIREBOX_ERR_CONNECTION_CLOSED when it could not be written. */
  transmit (type: number, fields: MessageFields, flags: number): void | Promise<void> {
    const encoder = this.encoder
    if (encoder === undefined || !this.live) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('not connected')
    const sent = this.session.send(encoder, type, fields, flags)
    if (sent instanceof Promise) return sent.then(checkWritten)
    if (!sent) throw notSent()
  }

  // InboxHandlers

  open (): boolean {
    return this.live
  }

  decode (input: Uint8Array | string): DecodedMessage | undefined | Promise<DecodedMessage | undefined> {
    // Before the negotiation: the handshake's form (PROTOCOL.md section 1).
    return (this.decoder ?? handshakeDecoder(input, this.shared.platform, this.shared.codec)).decodeNow(input)
  }

  handle (message: DecodedMessage): void {
    this.owner[kReceive](this, message)
  }

  fail (err: unknown): void {
    this.owner[kReport](err as Error)
  }

  // IncomingContext

  problem (kind: 'event' | 'response', name: string | undefined, payload: unknown): WireboxError | undefined {
    return this.owner[kProblem](kind, name, payload)
  }

  report (error: Error): void {
    this.owner[kReport](error)
  }

  /** Sends a message nobody awaits (an ACK, an ERROR, a VERSION_CHECK); a closed connection drops it. */
  answer (type: number, fields: MessageFields): void {
    try {
      const sent = this.transmit(type, fields, 0)
      if (sent instanceof Promise) sent.catch(ignoreError)
    } catch {
      // The connection closed: nothing to answer on (a reconnection starts over).
    }
  }
}

/** Attaches a connection with the WebSocket API's handler properties (two closures sharing one small context). */
export function attachHandlers (connection: Connection, socket: WebSocketLike): void {
  socket.onmessage = (event) => { connection.message(event.data) }
  socket.onclose = (event) => { connection.closed(event.code) }
  socket.onerror = ignoreError
}
