/**
 * The inside of one connection; connection.ts is its public face. One object is the owner of
 * every per-connection part: the inbox's handlers, the owner of inbound requests, of the
 * outbound policy and of subscriptions, the Session's writer (the Outbound), the ticker's
 * member and, through the socket, its listeners. An idle connection thus holds a few small
 * objects and no closures; what only some connections need (the rate limiter, the log with its
 * warning window, subscriptions, close handlers, the inbound handling, the outbox queue) is made
 * when first used.
 */
import { randomUUID } from 'node:crypto'
import type { WebSocket, RawData } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import { MessageType } from '../core/constants.js'
import type { DecodedMessage, EncodedMessage, MessageDecoder, MessageEncoder } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { CloseCode, errors, isWireboxError } from '../errors.js'
import type { WireboxError } from '../errors.js'
import type { ProtocolDefinition } from '../protocol.js'
import type { Negotiated } from '../negotiation.js'
import { Session } from '../session/session.js'
import type { MessageFields } from '../session/session.js'
import { Inbox } from '../session/inbox.js'
import type { InboxHandlers } from '../session/inbox.js'
import { assertSameLayout } from '../core/compact/layout.js'
import { ConnectionLog, MAX_ERROR_MESSAGE_CHARS, clip, clipDetails } from './bounded-log.js'
import { fairQueue } from './fair-queue.js'
import { Inbound, missing } from './inbound.js'
import type { InboundOwner } from './inbound.js'
import { Outbound } from './outbound.js'
import type { OutboundOwner } from './outbound.js'
import { ClientSubscriptions } from './subscriptions.js'
import { RateLimiter } from './rate-limit.js'
import { channels } from './diagnostics.js'
import type { ConnectionCloseMessage, MessageTrace } from './diagnostics.js'
import { everyTick, stopTicking } from '../session/ticker.js'
import type { Ticking } from '../session/ticker.js'
import type { HandlerContext, RouteContext } from './types.js'
import type { WireboxConnection } from './connection.js'

// The socket's listeners are shared by every connection; each finds its connection here.
const kCore = Symbol('fastify-wirebox.connection-core')
type CoredSocket = WebSocket & { [kCore]: ConnectionCore }

function onMessage (this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as CoredSocket)[kCore].message(data as Buffer, isBinary)
}
function onClose (this: WebSocket, code: number): void {
  (this as CoredSocket)[kCore].closedWith(code)
}
function onError (this: WebSocket, err: Error): void {
  (this as CoredSocket)[kCore].log.warn({ err }, 'wirebox: socket error')
}

/** One connection's state and the rules it follows. */
export class ConnectionCore<P extends ProtocolDefinition = ProtocolDefinition>
implements InboxHandlers, InboundOwner<P>, OutboundOwner, Ticking {
  /** The session id sent in the negotiation. */
  readonly id: string = randomUUID()
  readonly connection: WireboxConnection<P>
  readonly socket: WebSocket
  readonly route: RouteContext
  /** The variant's shared encoder. */
  readonly encoder: MessageEncoder
  readonly decoder: MessageDecoder
  readonly session: Session
  readonly outbound: Outbound
  readonly #inbox: Inbox
  // Made when first used: the log with its warning window, the rate limit's buckets (at the
  // first message), subscriptions (at the first), close handlers, the inbound handling (at the
  // first event or request, or a handler of the connection's own).
  #inbound: Inbound<P> | undefined
  #log: ConnectionLog | undefined
  readonly #logger: FastifyBaseLogger
  #limiter: RateLimiter | undefined
  #topics: ClientSubscriptions | undefined
  #closeHandlers: Array<(code: number) => void> | undefined
  // Frame bytes read since the last whole message (for diagnostics).
  #wireIn = 0
  #closed = false
  // Set once a close is decided: nothing more is written.
  #closing = false

  constructor (connection: WireboxConnection<P>, socket: WebSocket, logger: FastifyBaseLogger, negotiated: Negotiated, route: RouteContext) {
    this.connection = connection
    this.#logger = logger
    this.socket = socket
    this.route = route
    this.encoder = route.encoderFor(negotiated)
    this.decoder = route.decoderFor(negotiated)
    this.outbound = new Outbound(socket, route.options.backpressure, route.metrics, this)
    this.session = new Session(this.outbound)
    this.#inbox = new Inbox(this)
    everyTick(this.#tickPeriod, this)
    route.metrics.connections++
    route.metrics.connectionsTotal++
    ;(socket as CoredSocket)[kCore] = this as unknown as ConnectionCore
    socket.on('message', onMessage)
    socket.on('close', onClose)
    socket.on('error', onError)
  }

  /** Events and requests from the client: handlers, validation, the in-flight cap. */
  get inbound (): Inbound<P> {
    return (this.#inbound ??= new Inbound<P>(this.route, this))
  }

  /** This connection's log: warnings and errors rate-limited. */
  get log (): ConnectionLog {
    return (this.#log ??= new ConnectionLog(this.#logger, this.id))
  }

  /** How diagnostics name the connection. */
  get trace (): { session: string, path: string } {
    return { session: this.id, path: this.route.path }
  }

  /** True once the connection closed. */
  get closed (): boolean {
    return this.#closed
  }

  /** Topics this connection is subscribed to, in the order subscribed. */
  get topics (): string[] {
    return this.#topics?.topics() ?? []
  }

  /** Unsubscribes from `topic`; whether it was subscribed (a connection that never subscribed was not). */
  unsubscribe (topic: string): boolean {
    return this.#topics?.remove(topic) ?? false
  }

  /** True once closed or closing: nothing more is written. */
  finished (): boolean {
    return this.#closed || this.#closing
  }

  /** Runs `fn` when the connection closes. */
  onClose (fn: (code: number) => void): void {
    (this.#closeHandlers ??= []).push(fn)
  }

  /** Closes the connection (once). */
  close (code: number, reason: string): void {
    if (this.#closed || this.#closing) return
    this.#closing = true
    this.socket.close(code, reason)
  }

  /** This connection's topics, created with the first subscription (the core is their SubscriptionsOwner). */
  subscriptions (): ClientSubscriptions {
    return (this.#topics ??= new ClientSubscriptions(this as unknown as ConnectionCore))
  }

  /** The context handlers receive. */
  context (envelope: Envelope, flags: number): HandlerContext<P> {
    return { connection: this.connection, envelope, flags }
  }

  /** The handshake's form: the negotiated encoding and version, never compressed (PROTOCOL.md section 1). */
  handshakeEncoder (negotiated: Negotiated): MessageEncoder {
    return this.route.encoderFor({ ...negotiated, compression: 'none' })
  }

  /**
   * Queues an encoded message behind what is already queued. Returns whether it was written (at
   * once when it could be); with `ackId`, a promise settled once the client acknowledged it
   * (rejects on the ACK's timeout or a close).
   */
  deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, eventType?: string, ackTimeoutMs?: number): boolean | Promise<boolean> {
    const session = this.session
    if (ackId === undefined) return session.push(encoded, type, droppable, eventType)
    const acks = session.acks
    const timeoutMs = ackTimeoutMs ?? this.route.options.ackTimeoutMs
    const acked = acks.wait(ackId, 'ack', timeoutMs, () => new errors.WIREBOX_ERR_ACK_TIMEOUT(ackId, timeoutMs))
    acked.catch(() => {}) // awaited below when the message is written
    const settle = (written: boolean): Promise<boolean> => {
      if (written) return acked.then(() => true)
      acks.reject(ackId, new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived'))
      return Promise.resolve(false)
    }
    let written: boolean | Promise<boolean>
    try {
      written = session.push(encoded, type, droppable, eventType)
    } catch (err) {
      acks.reject(ackId, err as Error)
      return Promise.reject(err)
    }
    if (!(written instanceof Promise)) return settle(written)
    return written.then(settle, (err: unknown) => {
      acks.reject(ackId, err as Error)
      throw err
    })
  }

  /** Sends a control message; resolves once it is written. */
  async sendControl (type: number, fields: MessageFields): Promise<boolean> {
    return await this.session.send(this.encoder, type, fields)
  }

  /** Sends a control message (never dropped); errors are logged, not thrown. */
  reply (type: number, fields: MessageFields, encoder = this.encoder): void {
    const sent = this.session.send(encoder, type, fields)
    if (sent instanceof Promise) sent.catch((err: unknown) => this.log.error({ err }, 'wirebox: could not send a control message'))
  }

  /** Reports an error to the client (ERROR message) and closes when the error says so. */
  fail (err: unknown, id?: number, eventType?: string, encoder = this.encoder): void {
    const error: WireboxError = isWireboxError(err) ? err : this.#internal(err, eventType)
    this.route.metrics.error(error.wireCode === undefined ? error.code : `0x${error.wireCode.toString(16)}`)
    if (error.wireCode !== undefined) {
      // What is echoed from a client is bounded: a long event name makes no long ERROR.
      const message = clip(error.message, MAX_ERROR_MESSAGE_CHARS)
      const details = clipDetails(error.details, eventType)
      this.log.warn({ code: error.code, err: message }, 'wirebox: error sent to the client')
      this.reply(MessageType.ERROR, { id, payload: { code: error.wireCode, error: error.code, message, ...(details === undefined ? {} : { details }) } }, encoder)
    } else {
      this.log.warn({ code: error.code, err: clip(error.message, MAX_ERROR_MESSAGE_CHARS) }, 'wirebox: closing the connection')
    }
    const code = error.closeCode
    // After what is queued (the ERROR included) is written.
    if (code !== undefined) this.session.after(() => this.close(code, error.code))
  }

  /** The `close` back-pressure policy: the client does not read. */
  slowConsumer (highWaterMark: number): void {
    this.fail(new errors.WIREBOX_ERR_SLOW_CONSUMER(highWaterMark))
    this.close(CloseCode.TRY_AGAIN_LATER, 'WIREBOX_ERR_SLOW_CONSUMER')
  }

  /** Inbox: back-pressure; while the client does not read what it is sent, nothing more is read from it. */
  gate (): Promise<void> | undefined {
    return this.outbound.readGate()
  }

  /** Inbox: bytes read and not yet handled, behind a pending message, before reading pauses. */
  get backlogLimit (): number {
    return this.route.options.backpressure.highWaterMark
  }

  /** Inbox: the backlog is over its limit; stop reading from the client. */
  pause (): void {
    this.socket.pause()
  }

  /** Inbox: the backlog drained; read again (back-pressure pauses again at the next message if it must). */
  resume (): void {
    if (!this.#closed) this.socket.resume()
  }

  /** Inbox: whether messages are still wanted. */
  open (): boolean {
    return !this.#closed
  }

  /** Inbox: decodes one WebSocket message. */
  decode (input: Uint8Array | string): DecodedMessage | undefined | Promise<DecodedMessage | undefined> {
    this.#wireIn += typeof input === 'string' ? input.length : input.byteLength
    return this.decoder.decodeNow(input)
  }

  /** A WebSocket message from the client: rate-limited, then queued in the inbox. */
  message (data: Buffer, isBinary: boolean): void {
    this.session.liveness.seen()
    this.route.metrics.wireBytesIn += data.length
    const { rateLimit } = this.route.options
    if (rateLimit !== false) {
      const verdict = (this.#limiter ??= new RateLimiter(rateLimit)).take(data.length)
      if (verdict !== 'ok') {
        this.fail(verdict === 'close'
          ? new errors.WIREBOX_ERR_RATE_LIMIT_ABUSE(rateLimit.closeAfter)
          : new errors.WIREBOX_ERR_RATE_LIMITED('message dropped'))
        return
      }
    }
    this.outbound.coalesce()
    this.#inbox.push(isBinary ? data : data.toString('utf8'))
  }

  /** Inbox: one decoded message. */
  handle (message: DecodedMessage): void | Promise<void> {
    this.route.metrics.received(message.type, 0, message.bodySize)
    if (channels.messageIn.hasSubscribers) {
      channels.messageIn.publish({ session: this.id, path: this.route.path, type: message.type, eventType: message.envelope?.event_type, wireBytes: this.#wireIn, bodyBytes: message.bodySize } satisfies MessageTrace)
    }
    this.#wireIn = 0
    // Messages that run user code take fair turns with every other connection's; the next
    // message of this connection waits while this one waits for its turn.
    if (message.type === MessageType.SUBSCRIBE || message.type === MessageType.UNSUBSCRIBE) {
      // In place once its SUBSCRIPTION_ACK is sent (PROTOCOL.md section 1). The connection reads
      // on meanwhile: a slow authorizeSubscribe hook (which may itself await an ACK from this
      // client) or broker must not stop its ACKs, PINGs and requests.
      try {
        this.subscriptions().receive(message.type, message.envelope as Envelope)?.catch(() => {})
      } catch (err) {
        this.fail(err, message.envelope?.id)
      }
      return
    }
    if ((message.type !== MessageType.EVENT && message.type !== MessageType.REQUEST) || fairQueue.free()) return this.#dispatchSafely(message)
    let ran = false
    let release: (() => void) | undefined
    fairQueue.run(() => {
      this.#dispatchSafely(message)
      ran = true
      release?.()
    })
    if (ran) return
    return new Promise<void>((resolve) => { release = resolve })
  }

  /** Ticker: sweeps expired chunked messages; sends the heartbeat, or ends a silent connection. */
  tick (): void {
    for (const expired of this.decoder.sweep()) this.fail(expired)
    const interval = this.route.options.heartbeatIntervalMs
    if (interval === 0) return
    if (this.session.liveness.silent(interval)) {
      this.route.metrics.error('WIREBOX_ERR_HEARTBEAT_TIMEOUT')
      this.log.warn({}, new errors.WIREBOX_ERR_HEARTBEAT_TIMEOUT(2 * interval).message)
      this.socket.terminate()
      return
    }
    this.reply(MessageType.PING, {})
  }

  /** The socket closed. */
  closedWith (code: number): void {
    if (this.#closed) return
    this.#closed = true
    stopTicking(this.#tickPeriod, this)
    this.outbound.stop()
    this.decoder.close()
    this.session.acks.rejectAll(() => new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived'))
    this.#topics?.clear()
    this.route.metrics.connections--
    this.route.forget(this.connection as unknown as WireboxConnection)
    this.log.debug({ code }, 'wirebox: connection closed')
    if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ session: this.id, path: this.route.path, code } satisfies ConnectionCloseMessage)
    for (const fn of this.#closeHandlers ?? []) {
      try {
        fn(code)
      } catch (err) {
        this.log.error({ err }, 'wirebox: onClose handler failed')
      }
    }
  }

  /** The ticker's period: the heartbeat's, or the chunk timeout's when shorter or without heartbeat. */
  get #tickPeriod (): number {
    const o = this.route.options
    return o.heartbeatIntervalMs > 0 ? Math.min(o.heartbeatIntervalMs, o.chunkTimeoutMs) : o.chunkTimeoutMs
  }

  #internal (err: unknown, eventType?: string): WireboxError {
    this.log.error({ err, event_type: eventType === undefined ? undefined : clip(eventType) }, 'wirebox: handler failed')
    return new errors.WIREBOX_ERR_INTERNAL(eventType ?? 'message')
  }

  #dispatchSafely (message: DecodedMessage): void {
    try {
      this.#dispatch(message)
    } catch (err) {
      // Nothing a client sends may stop the process: an unexpected failure is answered.
      this.fail(err, message.envelope?.id, message.envelope?.event_type)
    }
  }

  #dispatch (message: DecodedMessage): void {
    if (this.session.handle(message, this.encoder, (err) => this.log.error({ err }, 'wirebox: could not answer'))) return
    const envelope = message.envelope as Envelope
    switch (message.type) {
      case MessageType.EVENT: return this.inbound.event(message, envelope)
      case MessageType.REQUEST: return this.inbound.request(message, envelope)
      case MessageType.ACK: return this.fail(missing('/id'))
      case MessageType.VERSION_CHECK: {
        // msgpack-compact: a client whose schemas differ would misread every body (PROTOCOL.md 9.1).
        const layout = this.route.layout
        const hash = (envelope?.payload as { layout_hash?: unknown } | undefined)?.layout_hash
        if (this.encoder.settings.encoding === 'msgpack-compact' && layout !== undefined && typeof hash === 'string') assertSameLayout(layout, hash)
        return
      }
      case MessageType.ERROR: {
        const reported = reportedError(envelope?.payload)
        this.log.warn(reported, 'wirebox: the client reported an error')
        // An ERROR answering a message sent with ACK_REQUIRED: it was not handled.
        if (envelope?.id !== undefined) this.session.acks.reject(envelope.id, new Error(`the client could not handle message ${envelope.id}: ${String(reported.message)}`))
        return
      }
      default:
        return this.fail(new errors.WIREBOX_ERR_UNEXPECTED_MESSAGE(`0x${message.type.toString(16)}`, 'client'), envelope?.id)
    }
  }
}

/** The loggable part of a client's ERROR payload: its code and a clipped message. */
function reportedError (payload: unknown): { code: number | undefined, message: string | undefined } {
  const { code, message } = (typeof payload === 'object' && payload !== null ? payload : {}) as { code?: unknown, message?: unknown }
  return { code: typeof code === 'number' ? code : undefined, message: typeof message === 'string' ? clip(message, MAX_ERROR_MESSAGE_CHARS) : undefined }
}
