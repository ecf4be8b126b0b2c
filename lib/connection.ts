/**
 * One negotiated WebSocket connection: decodes what arrives (in order), validates it against the
 * route's protocol, dispatches it to the handlers, answers requests, ACKs, pings, subscriptions;
 * encodes and writes what is sent, in order, with back-pressure; enforces the rate limit and the
 * heartbeat. Knows nothing of byte offsets: the wire core does that.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import type { TSchema } from '@sinclair/typebox'
import { CHUNK_HEADER_SIZE, Flag, MessageType } from './core/constants.js'
import type { PartialBudget } from './core/chunking.js'
import type { CompressionAlgorithm, Version } from './core/constants.js'
import type { Encoding } from './core/codec.js'
import { MessageDecoder } from './core/wire.js'
import type { DecodedMessage, EncodedMessage, MessageEncoder, OutgoingMessage } from './core/wire.js'
import { nodePlatform } from './platform/node.js'
import type { Envelope } from '../schemas/envelope.js'
import { Subscription } from '../schemas/subscription.js'
import type { Subscription as SubscriptionPayload } from '../schemas/subscription.js'
import { CloseCode, errors, isWireboxError } from './errors.js'
import type { WireboxError } from './errors.js'
import { validatePayload } from './protocol.js'
import type { EventName, EventPayload, ProtocolDefinition, RequestDefinition, RequestName, RequestPayload, ResponsePayload } from './protocol.js'
import type { Negotiated } from './negotiation.js'
import type { ResolvedOptions } from './options.js'
import { RateLimiter } from './rate-limit.js'
import { ConnectionLog, MAX_ERROR_MESSAGE_CHARS, clip, clipDetails } from './server/bounded-log.js'
import { topicProblem } from './topics/topic-name.js'
import { negotiationPayload } from './session/handshake.js'
import { fairQueue } from './server/fair-queue.js'
import type { Metrics } from './metrics.js'
import type { Topics, TopicSubscriber } from './topics/registry.js'

/** What a connection needs of its route. */
export interface RouteContext {
  readonly path: string
  readonly options: Readonly<ResolvedOptions>
  /** The protocol's events and requests by name (Maps: names come from the wire). */
  readonly events: ReadonlyMap<string, TSchema>
  readonly requests: ReadonlyMap<string, RequestDefinition>
  readonly validateOutgoing: boolean
  readonly metrics: Metrics
  readonly topics: Topics
  /** The shared encoder of a variant (encode once for every socket of it). */
  encoderFor (negotiated: Negotiated): MessageEncoder
  /** Message ids for ACK_REQUIRED messages, unique in the plugin. */
  nextAckId (): number
  /** Called when a connection closes. */
  forget (connection: WireboxConnection): void
  /** Bytes of incomplete chunked messages every connection of the plugin may hold together. */
  readonly partialBudget: PartialBudget
  /** Decides whether a connection may subscribe to a topic. */
  authorizeSubscribe?: (topic: string, connection: WireboxConnection) => boolean | Promise<boolean>
}

/** Context passed to handlers. */
export interface HandlerContext<P extends ProtocolDefinition = ProtocolDefinition> {
  /** The connection the message came on. */
  connection: WireboxConnection<P>
  /** The envelope as received. */
  envelope: Envelope
  /** The message's flags. */
  flags: number
}

/** Handles one event from the client. */
export type EventHandler<P extends ProtocolDefinition, K extends EventName<P>> =
  (payload: EventPayload<P, K>, context: HandlerContext<P>) => void | Promise<void>

/** Answers one request from the client. */
export type RequestHandler<P extends ProtocolDefinition, K extends RequestName<P>> =
  (payload: RequestPayload<P, K>, context: HandlerContext<P>) => ResponsePayload<P, K> | Promise<ResponsePayload<P, K>>

/** Options of `send`. */
export interface SendOptions {
  /** PRIORITY: never dropped under back-pressure (default false). */
  priority?: boolean
  /** ACK_REQUIRED (version 3): resolve once the client acknowledges, reject on timeout (default false). */
  ack?: boolean
  /** ACK timeout in ms (default: the route's ackTimeoutMs). */
  ackTimeoutMs?: number
}

interface ControlFields {
  payload?: unknown
  id?: number | undefined
  event_type?: string
}

interface PendingAck {
  resolve: (acked: boolean) => void
  timer: ReturnType<typeof setTimeout>
}

// How often a congested connection's send buffer is checked.
const DRAIN_POLL_MS = 10

const CONTROL_NAMES: Record<number, string> = {
  [MessageType.ACK]: 'ack',
  [MessageType.PING]: 'ping',
  [MessageType.PONG]: 'pong',
  [MessageType.SUBSCRIPTION_ACK]: 'subscription_ack',
  [MessageType.PROTOCOL_NEGOTIATION]: 'protocol_negotiation',
  [MessageType.ERROR]: 'error'
}

/** A client connected to a wirebox route. */
export class WireboxConnection<P extends ProtocolDefinition = ProtocolDefinition> implements TopicSubscriber {
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
  /** The shared encoder of this connection's variant. */
  readonly encoder: MessageEncoder
  /** The route (for topics). */
  readonly route: RouteContext
  readonly #log: ConnectionLog
  readonly #decoder: MessageDecoder
  readonly #eventHandlers = new Map<string, EventHandler<P, EventName<P>>>()
  readonly #requestHandlers = new Map<string, RequestHandler<P, RequestName<P>>>()
  readonly #closeHandlers: Array<(code: number) => void> = []
  readonly #pendingAcks = new Map<number, PendingAck>()
  readonly #subscriptions = new Set<string>()
  readonly #limiter: RateLimiter | undefined
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #inFlight = 0
  #lastSeen = Date.now()
  #incoming: Promise<void> = Promise.resolve()
  #subscriptionOps: Promise<void> = Promise.resolve()
  readonly #drainWaiters: Array<() => void> = []
  #drainPoll: ReturnType<typeof setInterval> | undefined
  #outgoing: Promise<unknown> = Promise.resolve()
  #closed = false
  // Set once a close is decided: nothing more is written.
  #closing = false

  constructor (socket: WebSocket, request: FastifyRequest, negotiated: Negotiated, route: RouteContext) {
    this.socket = socket
    this.request = request
    this.route = route
    this.encoding = negotiated.encoding
    this.version = negotiated.version
    this.compression = negotiated.compression
    this.encoder = route.encoderFor(negotiated)
    this.#log = new ConnectionLog(request.log, this.id)
    const o = route.options
    this.#decoder = new MessageDecoder({ encoding: this.encoding, version: this.version, compression: this.compression, maxMessageSize: o.maxMessageSize }, {
      platform: nodePlatform,
      codec: o.codec,
      maxPartialMessages: o.maxPartialMessages,
      chunkTimeoutMs: o.chunkTimeoutMs,
      // A sender chunks what is larger than the chunk size (PROTOCOL.md 2.4).
      maxFrameSize: o.chunkSize + CHUNK_HEADER_SIZE,
      partialBudget: route.partialBudget
    })
    this.#limiter = o.rateLimit === false ? undefined : new RateLimiter(o.rateLimit)
    const tick = o.heartbeatIntervalMs > 0 ? Math.min(o.heartbeatIntervalMs, o.chunkTimeoutMs) : o.chunkTimeoutMs
    this.#timer = setInterval(() => this.#tick(), tick)
    this.#timer.unref()
    route.metrics.connections++
    route.metrics.connectionsTotal++
    socket.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data as Buffer, isBinary))
    socket.on('close', (code: number) => this.#onClose(code))
    socket.on('error', (err: Error) => this.#log.warn({ err }, 'wirebox: socket error'))
  }

  /** Sends the negotiation message (the first message on every connection). */
  sendNegotiation (negotiated: Negotiated): void {
    const o = this.route.options
    const payload = negotiationPayload(negotiated, { compressionThreshold: o.compression.threshold, maxMessageSize: o.maxMessageSize, heartbeatIntervalMs: o.heartbeatIntervalMs, chunkSize: o.chunkSize }, this.id)
    this.#control(MessageType.PROTOCOL_NEGOTIATION, { payload }, this.#handshakeEncoder(negotiated))
  }

  /** Refuses the connection after the upgrade (e.g. an unsupported version): ERROR, then close. */
  refuse (error: WireboxError, negotiated: Negotiated): void {
    this.#fail(error, undefined, undefined, this.#handshakeEncoder(negotiated))
  }

  /** The handshake's form: the negotiated encoding and version, never compressed (PROTOCOL.md section 1). */
  #handshakeEncoder (negotiated: Negotiated): MessageEncoder {
    return this.route.encoderFor({ ...negotiated, compression: 'none' })
  }

  /** Registers the handler of a client event. */
  on<K extends EventName<P>> (event: K, handler: EventHandler<P, K>): this {
    if (!this.route.events.has(event)) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', event)
    this.#eventHandlers.set(event, handler as unknown as EventHandler<P, EventName<P>>)
    return this
  }

  /** Registers the handler of a request; its return value is the response. */
  handle<K extends RequestName<P>> (request: K, handler: RequestHandler<P, K>): this {
    if (!this.route.requests.has(request)) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', request)
    this.#requestHandlers.set(request, handler as unknown as RequestHandler<P, RequestName<P>>)
    return this
  }

  /** Runs `fn` when the connection closes. */
  onClose (fn: (code: number) => void): this {
    this.#closeHandlers.push(fn)
    return this
  }

  /** True once the connection closed. */
  get closed (): boolean {
    return this.#closed
  }

  /** Topics this connection is subscribed to. */
  get subscriptions (): ReadonlySet<string> {
    return this.#subscriptions
  }

  /**
   * Sends an event. Resolves to true when written (with `ack`: when acknowledged), false when
   * dropped under back-pressure or the connection closed. Rejects for an unknown event or an
   * invalid payload; with `ack`, on a timeout (WIREBOX_ERR_ACK_TIMEOUT) or a close
   * (WIREBOX_ERR_CONNECTION_CLOSED).
   */
  async send<K extends EventName<P>> (event: K, payload: EventPayload<P, K>, options: SendOptions = {}): Promise<boolean> {
    if (this.route.validateOutgoing) {
      const schema = this.route.events.get(event)
      if (schema === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', event)
      const invalid = validatePayload(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    if (options.ack === true && this.version < 3) throw new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.version)
    const id = options.ack === true ? this.route.nextAckId() : undefined
    const flags = (options.priority === true ? Flag.PRIORITY : 0) | (id === undefined ? 0 : Flag.ACK_REQUIRED)
    const envelope: Envelope = { event_type: event, timestamp: Date.now(), payload, ...(id === undefined ? {} : { id }) }
    const encoded = this.encoder.encodeMessage({ type: MessageType.EVENT, flags, envelope })
    // A message that must be acknowledged is never dropped, as PRIORITY ones are not.
    const delivered = await this.deliver(encoded, MessageType.EVENT, options.priority !== true && id === undefined, id, options.ackTimeoutMs)
    if (id !== undefined && !delivered) {
      throw this.#closed
        ? new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived')
        : new errors.WIREBOX_ERR_ACK_TIMEOUT(id, options.ackTimeoutMs ?? this.route.options.ackTimeoutMs)
    }
    return delivered
  }

  /** Subscribes this connection to a topic (server side; clients send SUBSCRIBE). Resolves to the topic's seq. */
  async subscribe (topic: string): Promise<number> {
    const subscribed = await this.route.topics.subscribe(topic, this)
    this.#subscriptions.add(topic)
    subscribed.start()
    return subscribed.seq
  }

  /** Tells the client that messages of a topic were lost: an unsolicited SUBSCRIPTION_ACK. */
  lost (topic: string, currentSeq: number, firstSeq: number): void {
    this.#control(MessageType.SUBSCRIPTION_ACK, { payload: { topic, seq: currentSeq, recovered: false, first_seq: firstSeq } })
  }

  /** True while the send buffer is above the high-water mark (with the `close` policy, the connection is closed). */
  get congested (): boolean {
    if (this.#closed || this.#closing) return false
    const { highWaterMark, policy } = this.route.options.backpressure
    if (this.socket.bufferedAmount <= highWaterMark) return false
    if (policy === 'close') {
      this.#fail(new errors.WIREBOX_ERR_SLOW_CONSUMER(highWaterMark))
      this.close(CloseCode.TRY_AGAIN_LATER, 'WIREBOX_ERR_SLOW_CONSUMER')
    }
    return true
  }

  /** Runs `fn` once the send buffer has drained below half the high-water mark (never, if the connection closes first). */
  whenDrained (fn: () => void): void {
    this.#drainWaiters.push(fn)
    if (this.#drainPoll !== undefined) return
    // ws has no drain event of its own: poll while someone waits, and only then.
    this.#drainPoll = setInterval(() => {
      if (this.#closed) return this.#stopDrainPoll()
      if (this.socket.bufferedAmount > this.route.options.backpressure.highWaterMark / 2) return
      const waiters = this.#drainWaiters.splice(0)
      this.#stopDrainPoll()
      for (const waiter of waiters) waiter()
    }, DRAIN_POLL_MS)
    this.#drainPoll.unref()
  }

  /** Counts a topic message not written live because of back-pressure. */
  deferred (): void {
    this.route.metrics.dropped++
  }

  #stopDrainPoll (): void {
    clearInterval(this.#drainPoll)
    this.#drainPoll = undefined
    if (this.#closed) this.#drainWaiters.length = 0
  }

  async #drained (): Promise<void> {
    this.socket.pause()
    await new Promise<void>((resolve) => this.whenDrained(resolve))
    if (!this.#closed) this.socket.resume()
  }

  /** Unsubscribes from a topic; returns whether it was subscribed. */
  unsubscribe (topic: string): boolean {
    this.#subscriptions.delete(topic)
    return this.route.topics.unsubscribe(topic, this)
  }

  /** Closes the connection. */
  close (code = 1000, reason = ''): void {
    if (this.#closed || this.#closing) return
    this.#closing = true
    this.socket.close(code, reason)
  }

  /**
   * Queues an encoded message behind what is already queued (order is kept even when a large
   * message compresses in the thread pool). Resolves to whether it was written; with `ackId`,
   * whether the client acknowledged it in time.
   */
  async deliver (encoded: Promise<EncodedMessage>, type: number, droppable: boolean, ackId?: number, ackTimeoutMs?: number): Promise<boolean> {
    const acked = ackId === undefined ? undefined : this.#expectAck(ackId, ackTimeoutMs ?? this.route.options.ackTimeoutMs)
    const written = this.#outgoing.then(async () => this.#write(await encoded, type, droppable))
    this.#outgoing = written.catch(() => {})
    let ok: boolean
    try {
      ok = await written
    } catch (err) {
      if (ackId !== undefined) this.#settleAck(ackId, false)
      throw err
    }
    if (!ok) {
      if (ackId !== undefined) this.#settleAck(ackId, false)
      return false
    }
    return acked === undefined ? true : await acked
  }

  #write (encoded: EncodedMessage, type: number, droppable: boolean): boolean {
    if (this.#closed || this.#closing || this.socket.readyState !== this.socket.OPEN) return false
    if (this.congested) {
      // The `close` policy is closing the connection; `drop` drops what may be dropped.
      if (this.#closing) return false
      if (droppable) {
        this.route.metrics.dropped++
        return false
      }
    }
    for (const frame of encoded.frames) this.socket.send(frame, { binary: typeof frame !== 'string' })
    this.route.metrics.sent(type, encoded.wireSize, encoded.bodySize)
    return true
  }

  #expectAck (id: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settleAck(id, false), timeoutMs)
      timer.unref()
      this.#pendingAcks.set(id, { resolve, timer })
    })
  }

  #settleAck (id: number, acked: boolean): void {
    const pending = this.#pendingAcks.get(id)
    if (pending === undefined) return
    this.#pendingAcks.delete(id)
    clearTimeout(pending.timer)
    pending.resolve(acked)
  }

  /** Sends a control message (never dropped); errors are logged, not thrown. */
  #control (type: number, fields: ControlFields, encoder = this.encoder): void {
    this.#sendControl(type, fields, encoder).catch((err: unknown) => this.#log.error({ err }, 'wirebox: could not send a control message'))
  }

  /** Sends a control message; resolves once it is written (false: the connection closed). */
  async #sendControl (type: number, fields: ControlFields, encoder = this.encoder): Promise<boolean> {
    const envelope = { event_type: fields.event_type ?? CONTROL_NAMES[type] ?? 'control', timestamp: Date.now(), ...fields } as Envelope
    const encoded = encoder.encodeMessage({ type, envelope } satisfies OutgoingMessage)
    return await this.deliver(encoded, type, false)
  }

  /** Reports an error to the client (ERROR message) and closes when the error says so. */
  #fail (err: unknown, id?: number, eventType?: string, encoder = this.encoder): void {
    const error: WireboxError = isWireboxError(err) ? err : this.#internal(err, eventType)
    this.route.metrics.error(error.wireCode === undefined ? error.code : `0x${error.wireCode.toString(16)}`)
    if (error.wireCode !== undefined) {
      // What is echoed from a client is bounded: a long event name makes no long ERROR.
      const message = clip(error.message, MAX_ERROR_MESSAGE_CHARS)
      const details = clipDetails(error.details)
      this.#log.warn({ code: error.code, err: message }, 'wirebox: error sent to the client')
      const payload = { code: error.wireCode, message, ...(details === undefined ? {} : { details }) }
      this.#control(MessageType.ERROR, { payload, ...(id === undefined ? {} : { id }) }, encoder)
    } else {
      this.#log.warn({ code: error.code, err: clip(error.message, MAX_ERROR_MESSAGE_CHARS) }, 'wirebox: closing the connection')
    }
    if (error.closeCode !== undefined) {
      const code = error.closeCode
      // After what is queued (the ERROR included) is written.
      this.#outgoing = this.#outgoing.then(() => this.close(code, error.code)).catch(() => {})
    }
  }

  #internal (err: unknown, eventType?: string): WireboxError {
    this.#log.error({ err, event_type: eventType === undefined ? undefined : clip(eventType) }, 'wirebox: handler failed')
    return new errors.WIREBOX_ERR_INTERNAL(eventType ?? 'message')
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    this.#lastSeen = Date.now()
    this.route.metrics.wireBytesIn += data.length
    if (this.#limiter !== undefined) {
      const verdict = this.#limiter.take(data.length)
      if (verdict !== 'ok') {
        this.#fail(verdict === 'close'
          ? new errors.WIREBOX_ERR_RATE_LIMIT_ABUSE(this.route.options.rateLimit === false ? 0 : this.route.options.rateLimit.closeAfter)
          : new errors.WIREBOX_ERR_RATE_LIMITED('message dropped'))
        return
      }
    }
    const input = isBinary ? data : data.toString('utf8')
    this.#incoming = this.#incoming.then(async () => {
      // Back-pressure: while the client does not read what it is sent, nothing more is read from it.
      if (this.congested) await this.#drained()
      if (this.#closed) return
      let message: DecodedMessage | undefined
      try {
        message = await this.#decoder.decode(input)
      } catch (err) {
        this.#fail(err)
        return
      }
      if (message === undefined) return
      this.route.metrics.received(message.type, 0, message.bodySize)
      const decoded = message
      // Messages that run user code take fair turns with every other connection's.
      if (message.type === MessageType.EVENT || message.type === MessageType.REQUEST) {
        await new Promise<void>((resolve) => fairQueue.run(() => {
          this.#dispatchSafely(decoded)
          resolve()
        }))
      } else {
        this.#dispatchSafely(decoded)
      }
    }).catch((err: unknown) => this.#log.error({ err }, 'wirebox: message chain failed'))
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
    const envelope = message.envelope
    switch (message.type) {
      case MessageType.EVENT: return this.#onEvent(message, envelope as Envelope)
      case MessageType.REQUEST: return this.#onRequest(message, envelope as Envelope)
      case MessageType.ACK:
        if (envelope?.id === undefined) return this.#fail(missing('/id'))
        return this.#settleAck(envelope.id, true)
      case MessageType.PING: return this.#control(MessageType.PONG, envelope?.id === undefined ? {} : { id: envelope.id })
      case MessageType.PONG:
      case MessageType.HEARTBEAT:
        return
      case MessageType.SUBSCRIBE:
      case MessageType.UNSUBSCRIBE:
        return this.#onSubscription(message.type, envelope as Envelope)
      case MessageType.VERSION_CHECK:
        this.#log.debug({}, 'wirebox: version check')
        return
      case MessageType.ERROR:
        this.#log.warn(reportedError(envelope?.payload), 'wirebox: the client reported an error')
        return
      default:
        return this.#fail(new errors.WIREBOX_ERR_UNEXPECTED_MESSAGE(`0x${message.type.toString(16)}`, 'client'), envelope?.id)
    }
  }

  #onEvent (message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    const schema = this.route.events.get(name)
    const ackWanted = (message.flags & Flag.ACK_REQUIRED) !== 0
    if (ackWanted && envelope.id === undefined) return this.#fail(missing('/id'))
    if (schema === undefined) return this.#fail(new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', name), envelope.id)
    const invalid = validatePayload(schema, envelope.payload, name)
    if (invalid !== undefined) return this.#fail(invalid, envelope.id)
    const handler = this.#eventHandlers.get(name)
    const done = (): void => {
      if (ackWanted) this.#control(MessageType.ACK, { id: envelope.id as number, event_type: name })
    }
    if (handler === undefined) {
      this.#log.debug({ event_type: name }, 'wirebox: no handler for this event')
      return done()
    }
    // Called here, inside this message's fair turn; a synchronous throw is a rejection.
    settle(() => handler(envelope.payload as EventPayload<P, EventName<P>>, { connection: this, envelope, flags: message.flags }))
      .then(done, (err: unknown) => this.#fail(err, ackWanted ? envelope.id : undefined, name))
  }

  #onRequest (message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    const id = envelope.id
    if (id === undefined) return this.#fail(missing('/id'))
    const definition = this.route.requests.get(name)
    if (definition === undefined) return this.#fail(new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name), id)
    const invalid = validatePayload(definition.payload, envelope.payload, name)
    if (invalid !== undefined) return this.#fail(invalid, id)
    const handler = this.#requestHandlers.get(name)
    if (handler === undefined) return this.#fail(new Error(`no handler registered for request "${name}"`), id, name)
    if (this.#inFlight >= this.route.options.maxInFlight) return this.#fail(new errors.WIREBOX_ERR_TOO_MANY_REQUESTS(this.route.options.maxInFlight), id)
    this.#inFlight++
    const started = performance.now()
    const timeoutMs = this.route.options.requestTimeoutMs
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, timeoutMs)), timeoutMs)
    })
    const work = settle(() => handler(envelope.payload as RequestPayload<P, RequestName<P>>, { connection: this, envelope, flags: message.flags }))
    work.catch(() => {}) // a handler failing after its timeout is already answered
    Promise.race([work, timeout])
      .then(async (response) => {
        await new Promise<void>((resolve) => fairQueue.run(() => {
          this.#respond(name, id, definition.response, response, started)
          resolve()
        }, true))
      }, (err: unknown) => this.#fail(err, id, name))
      .finally(() => {
        clearTimeout(timer)
        this.#inFlight--
      })
  }

  /** Validates and sends a response (a fair turn of its own: a large one is a piece of work). */
  #respond (name: string, id: number, schema: TSchema, response: unknown, started: number): void {
    try {
      if (this.route.validateOutgoing) {
        const wrong = validatePayload(schema, response, name)
        if (wrong !== undefined) {
          this.#log.error({ event_type: name, err: wrong.message }, 'wirebox: the handler returned an invalid response')
          return this.#fail(new errors.WIREBOX_ERR_INTERNAL(name), id)
        }
      }
      this.route.metrics.latency(performance.now() - started)
      this.#control(MessageType.RESPONSE, { event_type: name, id, payload: response })
    } catch (err) {
      this.#fail(err, id, name)
    }
  }

  #onSubscription (type: number, envelope: Envelope): void {
    const id = envelope.id
    const invalid = validatePayload(Subscription, envelope.payload, type === MessageType.SUBSCRIBE ? 'subscribe' : 'unsubscribe')
    if (invalid !== undefined) return this.#fail(invalid, id)
    const { topic, since } = envelope.payload as SubscriptionPayload
    const bad = topicProblem(topic)
    if (bad !== undefined) return this.#fail(bad, id)
    // One at a time, in the order received: the answers keep request order.
    const name = type === MessageType.SUBSCRIBE ? 'subscribe' : 'unsubscribe'
    this.#subscriptionOps = this.#subscriptionOps
      .then(async () => type === MessageType.SUBSCRIBE ? await this.#subscribeClient(topic, since, id) : this.#unsubscribeClient(topic, id))
      .catch((err: unknown) => this.#fail(err, id, name))
  }

  #unsubscribeClient (topic: string, id: number | undefined): void {
    // The seq this connection had reached; a topic it was not subscribed to tells nothing (0).
    const seq = this.route.topics.position(topic, this) ?? 0
    this.unsubscribe(topic)
    this.#control(MessageType.SUBSCRIPTION_ACK, { id, payload: { topic, seq } })
  }

  async #subscribeClient (topic: string, since: number | undefined, id: number | undefined): Promise<void> {
    const max = this.route.options.maxSubscriptions
    if (!this.#subscriptions.has(topic) && this.#subscriptions.size >= max) throw new errors.WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS(max)
    const authorize = this.route.authorizeSubscribe
    // A hook that throws synchronously is caught like one that rejects.
    const allowed = authorize === undefined ? true : await authorize(topic, this as unknown as WireboxConnection)
    if (allowed !== true) throw new errors.WIREBOX_ERR_PERMISSION_DENIED(`topic ${clip(topic)}`)
    if (this.#closed) return
    const subscribed = await this.route.topics.subscribe(topic, this, since)
    if (this.#closed) {
      this.route.topics.unsubscribe(topic, this)
      return
    }
    this.#subscriptions.add(topic)
    const { seq, recovered, first_seq: firstSeq } = subscribed
    // The ACK is written before any replayed or live message of the topic.
    await this.#sendControl(MessageType.SUBSCRIPTION_ACK, {
      id,
      payload: { topic, seq, ...(recovered === undefined ? {} : { recovered }), ...(firstSeq === undefined ? {} : { first_seq: firstSeq }) }
    })
    subscribed.start()
  }

  #tick (): void {
    for (const expired of this.#decoder.sweep()) this.#fail(expired)
    const interval = this.route.options.heartbeatIntervalMs
    if (interval === 0) return
    if (Date.now() - this.#lastSeen > 2 * interval) {
      this.route.metrics.error('WIREBOX_ERR_HEARTBEAT_TIMEOUT')
      this.#log.warn({}, new errors.WIREBOX_ERR_HEARTBEAT_TIMEOUT(2 * interval).message)
      this.socket.terminate()
      return
    }
    this.#control(MessageType.PING, {})
  }

  #onClose (code: number): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#stopDrainPoll()
    this.#decoder.close()
    for (const id of [...this.#pendingAcks.keys()]) this.#settleAck(id, false)
    this.route.topics.removeEverywhere(this, this.#subscriptions)
    this.#subscriptions.clear()
    this.route.metrics.connections--
    this.route.forget(this as unknown as WireboxConnection)
    this.#log.debug({ code }, 'wirebox: connection closed')
    for (const fn of this.#closeHandlers) {
      try {
        fn(code)
      } catch (err) {
        this.#log.error({ err }, 'wirebox: onClose handler failed')
      }
    }
  }
}

/** The loggable part of a client's ERROR payload: its code and a clipped message. */
function reportedError (payload: unknown): Record<string, unknown> {
  const { code, message } = (typeof payload === 'object' && payload !== null ? payload : {}) as { code?: unknown, message?: unknown }
  return { code: typeof code === 'number' ? code : undefined, message: typeof message === 'string' ? clip(message, MAX_ERROR_MESSAGE_CHARS) : undefined }
}

/** Calls `fn`; a synchronous throw becomes a rejection. */
function settle<T> (fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (err) {
    return Promise.reject(err)
  }
}

function missing (path: string): WireboxError {
  const err = new errors.WIREBOX_ERR_MISSING_FIELDS(path)
  err.details = { path }
  return err
}
