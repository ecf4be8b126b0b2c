/**
 * One negotiated WebSocket connection, as users see it: handlers (`on`, `handle`), `send`,
 * `subscribe`, `close`. Underneath: the shared session rules (lib/session), inbound events and
 * requests (inbound.ts), subscriptions (subscriptions.ts), the outbound policy (outbound.ts),
 * the rate limit and the heartbeat. Knows nothing of byte offsets: the wire core does that.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import { Flag, MessageType } from '../core/constants.js'
import type { CompressionAlgorithm, Version } from '../core/constants.js'
import type { Encoding } from '../core/codec.js'
import { MessageDecoder } from '../core/wire.js'
import type { DecodedMessage, EncodedMessage, MessageEncoder } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { CloseCode, errors, isWireboxError } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { senderSchema, validatePayload } from '../protocol.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, ServerEventName } from '../protocol.js'
import type { Negotiated } from '../negotiation.js'
import { Session } from '../session/session.js'
import type { MessageFields } from '../session/session.js'
import { Inbox } from '../session/inbox.js'
import { negotiationPayload } from '../session/handshake.js'
import { assertSameLayout } from '../core/compact/layout.js'
import { ConnectionLog, MAX_ERROR_MESSAGE_CHARS, clip, clipDetails } from './bounded-log.js'
import { fairQueue } from './fair-queue.js'
import { Inbound, missing } from './inbound.js'
import { Outbound } from './outbound.js'
import { ClientSubscriptions } from './subscriptions.js'
import { RateLimiter } from './rate-limit.js'
import { channels } from './diagnostics.js'
import { everyTick } from './ticker.js'
import type { ConnectionCloseMessage, ConnectionOpenMessage, MessageTrace } from './diagnostics.js'
import type { EventHandler, RequestHandler, RouteContext, SendOptions } from './types.js'

export type { EventHandler, HandlerContext, RequestHandler, RouteContext, SendOptions } from './types.js'

const NO_TOPICS: ReadonlySet<string> = new Set()

/** A client connected to a wirebox route. */
export class WireboxConnection<P extends ProtocolDefinition = ProtocolDefinition> {
  /** The session id sent in the negotiation. */
  readonly id: string = randomUUID()
  /** The underlying WebSocket. */
  readonly socket: WebSocket
  /** The upgrade request. */
  readonly request: FastifyRequest
  /** Negotiated encoding. */
  readonly encoding: Encoding
  /** Negotiated protocol version. */
  readonly version: Version
  /** Negotiated compression. */
  readonly compression: CompressionAlgorithm | 'none'
  readonly #route: RouteContext
  readonly #encoder: MessageEncoder
  readonly #log: ConnectionLog
  readonly #decoder: MessageDecoder
  readonly #session: Session
  readonly #inbox: Inbox
  readonly #inbound: Inbound<P>
  readonly #outbound: Outbound
  // Created with the first subscription: most connections have none.
  #topics: ClientSubscriptions | undefined
  #closeHandlers: Array<(code: number) => void> | undefined
  readonly #limiter: RateLimiter | undefined
  readonly #stopTicking: () => void
  // Frame bytes read since the last whole message (for diagnostics).
  #wireIn = 0
  #closed = false
  // Set once a close is decided: nothing more is written.
  #closing = false

  constructor (socket: WebSocket, request: FastifyRequest, negotiated: Negotiated, route: RouteContext) {
    this.socket = socket
    this.request = request
    this.#route = route
    this.encoding = negotiated.encoding
    this.version = negotiated.version
    this.compression = negotiated.compression
    this.#encoder = route.encoderFor(negotiated)
    this.#log = new ConnectionLog(request.log, this.id)
    const o = route.options
    this.#decoder = route.decoderFor(negotiated)
    const trace = { session: this.id, path: route.path }
    this.#outbound = new Outbound(socket, o.backpressure, route.metrics, {
      trace,
      finished: () => this.#closed || this.#closing,
      slowConsumer: (highWaterMark: number): void => {
        this.#fail(new errors.WIREBOX_ERR_SLOW_CONSUMER(highWaterMark))
        this.close(CloseCode.TRY_AGAIN_LATER, 'WIREBOX_ERR_SLOW_CONSUMER')
      }
    })
    this.#session = new Session((message, type, droppable, eventType) => this.#outbound.write(message, type, droppable, eventType))
    this.#inbound = new Inbound<P>(route, {
      trace,
      context: (envelope, flags) => ({ connection: this, envelope, flags }),
      reply: (type, fields) => this.#control(type, fields),
      fail: (err, id, eventType) => this.#fail(err, id, eventType)
    }, this.#log)
    this.#inbox = new Inbox({
      // Back-pressure: while the client does not read what it is sent, nothing more is read from it.
      gate: () => this.#outbound.readGate(),
      open: () => !this.#closed,
      decode: (input) => {
        this.#wireIn += typeof input === 'string' ? input.length : input.byteLength
        return this.#decoder.decodeNow(input)
      },
      handle: (message) => this.#receive(message),
      fail: (err) => this.#fail(err)
    })
    this.#limiter = o.rateLimit === false ? undefined : new RateLimiter(o.rateLimit)
    const tick = o.heartbeatIntervalMs > 0 ? Math.min(o.heartbeatIntervalMs, o.chunkTimeoutMs) : o.chunkTimeoutMs
    this.#stopTicking = everyTick(tick, () => this.#tick())
    route.metrics.connections++
    route.metrics.connectionsTotal++
    socket.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data as Buffer, isBinary))
    socket.on('close', (code: number) => this.#onClose(code))
    socket.on('error', (err: Error) => this.#log.warn({ err }, 'wirebox: socket error'))
  }

  /** Sends the negotiation message (the first message on every connection), in the handshake's form. */
  sendNegotiation (negotiated: Negotiated): void {
    const o = this.#route.options
    const payload = negotiationPayload(negotiated, { compressionThreshold: o.compression.threshold, maxMessageSize: o.maxMessageSize, heartbeatIntervalMs: o.heartbeatIntervalMs, chunkSize: o.chunkSize }, this.id, this.#route.layout?.summary)
    this.#control(MessageType.PROTOCOL_NEGOTIATION, { payload }, this.#handshakeEncoder(negotiated))
    if (channels.connectionOpen.hasSubscribers) {
      channels.connectionOpen.publish({ session: this.id, path: this.#route.path, encoding: this.encoding, version: this.version, compression: this.compression } satisfies ConnectionOpenMessage)
    }
  }

  /** Refuses the connection after the upgrade (e.g. an unsupported version): ERROR, then close. */
  refuse (error: WireboxError, negotiated: Negotiated): void {
    this.#fail(error, undefined, undefined, this.#handshakeEncoder(negotiated))
  }

  /** Registers the handler of a client event. */
  on<K extends ClientEventName<P>> (event: K, handler: EventHandler<P, K>): this {
    this.#inbound.on(event, handler)
    return this
  }

  /** Registers the handler of a request; its return value is the response. */
  handle<K extends RequestName<P>> (request: K, handler: RequestHandler<P, K>): this {
    this.#inbound.handle(request, handler)
    return this
  }

  /** Runs `fn` when the connection closes. */
  onClose (fn: (code: number) => void): this {
    (this.#closeHandlers ??= []).push(fn)
    return this
  }

  /** True once the connection closed. */
  get closed (): boolean {
    return this.#closed
  }

  /** Topics this connection is subscribed to. */
  get subscriptions (): ReadonlySet<string> {
    return this.#topics?.topics ?? NO_TOPICS
  }

  /**
   * Sends an event. Resolves to true when written (with `ack`: when acknowledged), false when
   * dropped under back-pressure or the connection closed. Rejects for an unknown event, one only
   * clients send (WIREBOX_ERR_WRONG_DIRECTION) or an invalid payload; with `ack`, on a timeout
   * (WIREBOX_ERR_ACK_TIMEOUT) or a close (WIREBOX_ERR_CONNECTION_CLOSED).
   */
  async send<K extends ServerEventName<P>> (event: K, payload: EventPayload<P, K>, options: SendOptions = {}): Promise<boolean> {
    if (this.#route.validateOutgoing) {
      const schema = senderSchema(this.#route, 'server', event)
      const invalid = validatePayload(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    if (options.ack === true && this.version < 3) throw new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.version)
    const id = options.ack === true ? this.#route.nextAckId() : undefined
    const flags = (options.priority === true ? Flag.PRIORITY : 0) | (id === undefined ? 0 : Flag.ACK_REQUIRED)
    const envelope = Session.envelope(MessageType.EVENT, { event_type: event, payload, id })
    const encoded = this.#encoder.encodeNow({ type: MessageType.EVENT, flags, envelope })
    // A message that must be acknowledged is never dropped, as PRIORITY ones are not.
    const delivered = await this.#deliver(encoded, MessageType.EVENT, options.priority !== true && id === undefined, id, options.ackTimeoutMs, event)
    if (id !== undefined && !delivered) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived')
    return delivered
  }

  /** Subscribes this connection to a topic (server side; clients send SUBSCRIBE). Resolves to the topic's seq; rejects with WIREBOX_ERR_CONNECTION_CLOSED once the connection is closed. */
  async subscribe (topic: string): Promise<number> {
    if (this.#closed) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the connection is closed')
    return await this.#subscriptions().add(topic)
  }

  /** Unsubscribes from a topic; returns whether it was subscribed. */
  unsubscribe (topic: string): boolean {
    return this.#topics?.remove(topic) ?? false
  }

  /** Closes the connection. */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.#closed || this.#closing) return
    this.#closing = true
    this.socket.close(code, reason)
  }

  /** This connection's topics, created with the first subscription. */
  #subscriptions (): ClientSubscriptions {
    this.#topics ??= new ClientSubscriptions(this.#route, {
      connection: this as unknown as WireboxConnection,
      encoder: this.#encoder,
      closed: () => this.#closed,
      outbound: this.#outbound,
      send: async (type, fields) => await this.#session.send(this.#encoder, type, fields),
      deliver: (encoded, type, droppable, ackId, eventType) => this.#deliver(encoded, type, droppable, ackId, undefined, eventType),
      fail: (err, id, eventType) => this.#fail(err, id, eventType)
    })
    return this.#topics
  }

  /** The handshake's form: the negotiated encoding and version, never compressed (PROTOCOL.md section 1). */
  #handshakeEncoder (negotiated: Negotiated): MessageEncoder {
    return this.#route.encoderFor({ ...negotiated, compression: 'none' })
  }

  /**
   * Queues an encoded message behind what is already queued. Returns whether it was written (at
   * once when it could be); with `ackId`, a promise settled once the client acknowledged it
   * (rejects on the ACK's timeout or a close).
   */
  #deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, ackTimeoutMs?: number, eventType?: string): boolean | Promise<boolean> {
    if (ackId === undefined) return this.#session.outbox.push(encoded, type, droppable, eventType)
    const timeoutMs = ackTimeoutMs ?? this.#route.options.ackTimeoutMs
    const acked = this.#session.acks.wait(ackId, 'ack', timeoutMs, () => new errors.WIREBOX_ERR_ACK_TIMEOUT(ackId, timeoutMs))
    acked.catch(() => {}) // awaited below when the message is written
    const settle = (written: boolean): Promise<boolean> => {
      if (written) return acked.then(() => true)
      this.#session.acks.reject(ackId, new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived'))
      return Promise.resolve(false)
    }
    let written: boolean | Promise<boolean>
    try {
      written = this.#session.outbox.push(encoded, type, droppable, eventType)
    } catch (err) {
      this.#session.acks.reject(ackId, err as Error)
      return Promise.reject(err)
    }
    if (!(written instanceof Promise)) return settle(written)
    return written.then(settle, (err: unknown) => {
      this.#session.acks.reject(ackId, err as Error)
      throw err
    })
  }

  /** Sends a control message (never dropped); errors are logged, not thrown. */
  #control (type: number, fields: MessageFields, encoder = this.#encoder): void {
    const sent = this.#session.send(encoder, type, fields)
    if (sent instanceof Promise) sent.catch((err: unknown) => this.#log.error({ err }, 'wirebox: could not send a control message'))
  }

  /** Reports an error to the client (ERROR message) and closes when the error says so. */
  #fail (err: unknown, id?: number, eventType?: string, encoder = this.#encoder): void {
    const error: WireboxError = isWireboxError(err) ? err : this.#internal(err, eventType)
    this.#route.metrics.error(error.wireCode === undefined ? error.code : `0x${error.wireCode.toString(16)}`)
    if (error.wireCode !== undefined) {
      // What is echoed from a client is bounded: a long event name makes no long ERROR.
      const message = clip(error.message, MAX_ERROR_MESSAGE_CHARS)
      const details = clipDetails(error.details, eventType)
      this.#log.warn({ code: error.code, err: message }, 'wirebox: error sent to the client')
      this.#control(MessageType.ERROR, { id, payload: { code: error.wireCode, error: error.code, message, ...(details === undefined ? {} : { details }) } }, encoder)
    } else {
      this.#log.warn({ code: error.code, err: clip(error.message, MAX_ERROR_MESSAGE_CHARS) }, 'wirebox: closing the connection')
    }
    const code = error.closeCode
    // After what is queued (the ERROR included) is written.
    if (code !== undefined) this.#session.outbox.after(() => this.close(code, error.code))
  }

  #internal (err: unknown, eventType?: string): WireboxError {
    this.#log.error({ err, event_type: eventType === undefined ? undefined : clip(eventType) }, 'wirebox: handler failed')
    return new errors.WIREBOX_ERR_INTERNAL(eventType ?? 'message')
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    this.#session.liveness.seen()
    this.#route.metrics.wireBytesIn += data.length
    if (this.#limiter !== undefined) {
      const verdict = this.#limiter.take(data.length)
      if (verdict !== 'ok') {
        const { rateLimit } = this.#route.options
        this.#fail(verdict === 'close'
          ? new errors.WIREBOX_ERR_RATE_LIMIT_ABUSE(rateLimit === false ? 0 : rateLimit.closeAfter)
          : new errors.WIREBOX_ERR_RATE_LIMITED('message dropped'))
        return
      }
    }
    this.#inbox.push(isBinary ? data : data.toString('utf8'))
  }

  #receive (message: DecodedMessage): void | Promise<void> {
    this.#route.metrics.received(message.type, 0, message.bodySize)
    if (channels.messageIn.hasSubscribers) {
      channels.messageIn.publish({ session: this.id, path: this.#route.path, type: message.type, eventType: message.envelope?.event_type, wireBytes: this.#wireIn, bodyBytes: message.bodySize } satisfies MessageTrace)
    }
    this.#wireIn = 0
    // Messages that run user code take fair turns with every other connection's; the next
    // message of this connection waits while this one waits for its turn.
    if (message.type === MessageType.SUBSCRIBE || message.type === MessageType.UNSUBSCRIBE) {
      // In place once its SUBSCRIPTION_ACK is sent (PROTOCOL.md section 1). The connection reads
      // on meanwhile: a slow authorizeSubscribe hook (which may itself await an ACK from this
      // client) or broker must not stop its ACKs, PINGs and requests.
      try {
        this.#subscriptions().receive(message.type, message.envelope as Envelope)?.catch(() => {})
      } catch (err) {
        this.#fail(err, message.envelope?.id)
      }
      return
    }
    if (message.type !== MessageType.EVENT && message.type !== MessageType.REQUEST) return this.#dispatchSafely(message)
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

  #dispatchSafely (message: DecodedMessage): void {
    try {
      this.#dispatch(message)
    } catch (err) {
      // Nothing a client sends may stop the process: an unexpected failure is answered.
      this.#fail(err, message.envelope?.id, message.envelope?.event_type)
    }
  }

  #dispatch (message: DecodedMessage): void {
    if (this.#session.handle(message, this.#encoder, (err) => this.#log.error({ err }, 'wirebox: could not answer'))) return
    const envelope = message.envelope as Envelope
    switch (message.type) {
      case MessageType.EVENT: return this.#inbound.event(message, envelope)
      case MessageType.REQUEST: return this.#inbound.request(message, envelope)
      case MessageType.ACK: return this.#fail(missing('/id'))
      case MessageType.VERSION_CHECK: {
        // msgpack-compact: a client whose schemas differ would misread every body (PROTOCOL.md 9.1).
        const layout = this.#route.layout
        const hash = (envelope?.payload as { layout_hash?: unknown } | undefined)?.layout_hash
        if (this.encoding === 'msgpack-compact' && layout !== undefined && typeof hash === 'string') assertSameLayout(layout, hash)
        return
      }
      case MessageType.ERROR: {
        const reported = reportedError(envelope?.payload)
        this.#log.warn(reported, 'wirebox: the client reported an error')
        // An ERROR answering a message sent with ACK_REQUIRED: it was not handled.
        if (envelope?.id !== undefined) this.#session.acks.reject(envelope.id, new Error(`the client could not handle message ${envelope.id}: ${String(reported.message)}`))
        return
      }
      default:
        return this.#fail(new errors.WIREBOX_ERR_UNEXPECTED_MESSAGE(`0x${message.type.toString(16)}`, 'client'), envelope?.id)
    }
  }

  #tick (): void {
    for (const expired of this.#decoder.sweep()) this.#fail(expired)
    const interval = this.#route.options.heartbeatIntervalMs
    if (interval === 0) return
    if (this.#session.liveness.silent(interval)) {
      this.#route.metrics.error('WIREBOX_ERR_HEARTBEAT_TIMEOUT')
      this.#log.warn({}, new errors.WIREBOX_ERR_HEARTBEAT_TIMEOUT(2 * interval).message)
      this.socket.terminate()
      return
    }
    this.#control(MessageType.PING, {})
  }

  #onClose (code: number): void {
    if (this.#closed) return
    this.#closed = true
    this.#stopTicking()
    this.#outbound.stop()
    this.#decoder.close()
    this.#session.acks.rejectAll(() => new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived'))
    this.#topics?.clear()
    this.#route.metrics.connections--
    this.#route.forget(this as unknown as WireboxConnection)
    this.#log.debug({ code }, 'wirebox: connection closed')
    if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ session: this.id, path: this.#route.path, code } satisfies ConnectionCloseMessage)
    for (const fn of this.#closeHandlers ?? []) {
      try {
        fn(code)
      } catch (err) {
        this.#log.error({ err }, 'wirebox: onClose handler failed')
      }
    }
  }
}

/** The loggable part of a client's ERROR payload: its code and a clipped message. */
function reportedError (payload: unknown): { code: number | undefined, message: string | undefined } {
  const { code, message } = (typeof payload === 'object' && payload !== null ? payload : {}) as { code?: unknown, message?: unknown }
  return { code: typeof code === 'number' ? code : undefined, message: typeof message === 'string' ? clip(message, MAX_ERROR_MESSAGE_CHARS) : undefined }
}
