/**
 * The typed client, for browsers and Node: its API (requests, events, ACKs, subscriptions),
 * listeners and reconnection, over the session rules it shares with the server (lib/session).
 * Pure: the WebSocket class and the Platform are given (see browser.ts and node.ts).
 */
import type { DecodedMessage } from '../core/wire.js'
import { Flag, MessageType } from '../core/constants.js'
import type { Platform } from '../core/platform.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import type { SubscriptionAck } from '../../schemas/subscription.js'
import { CloseCode, errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import type { TSchema } from '@sinclair/typebox'
import { eventProblem, protocolTables, senderSchema } from '../protocol-tables.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, RequestPayload, ResponsePayload, ServerEventName } from '../protocol.js'
import { IdCounter, PendingTable } from '../session/pending.js'
import { CLIENT_DEFAULTS, connectUrl, reconnectDelay } from './reconnect.js'
import { TopicCursors } from './topic-cursors.js'
import { ClientListeners } from './listeners.js'
import { WaitingCalls } from './waiting-calls.js'
import { handleIncoming } from './incoming.js'
import { negotiatedWire } from './negotiated-wire.js'
import type { NegotiatedWire } from './negotiated-wire.js'
import { Connection, attachHandlers } from './connection.js'
import type { AttachSocket, ConnectionOwner, ConnectionShared } from './connection.js'
import { kClosed, kProblem, kReceive, kReport } from './symbols.js'
import type { TopicGap } from './topic-cursors.js'

import type { ClientOptions, ClientState, ClientStats, EventMeta, PayloadValidator, WebSocketClass, WebSocketLike } from './types.js'

export { WireboxRemoteError } from './types.js'
export type { ClientOptions, ClientState, ClientStats, EventMeta, PayloadValidator, RemoteProblem, WebSocketClass, WebSocketLike } from './types.js'
export type { ReconnectOptions } from './reconnect.js'
export { CLIENT_DEFAULTS } from './reconnect.js'
export type { TopicGap } from './topic-cursors.js'
export type { AttachSocket } from './connection.js'

/**
 * What a platform's entry (node.ts, browser.ts) gives every client it makes, in one object they
 * all share (the options are the caller's, kept as given).
 */
export interface ClientRuntime {
  /** The validator when the options have no `validator` (Node: `validatePayload`). */
  validator?: PayloadValidator
  /** How a connection listens to its socket (default: the WebSocket API's handler properties). */
  attach?: AttachSocket
}

const NO_RUNTIME: ClientRuntime = Object.freeze({})

type Listener = (payload: unknown, meta: EventMeta) => void | Promise<void>

// What a PONG that could not be sent is told: nothing (the close that follows does the work).
function ignore (): void {}

/** The typed client. */
export class WireboxClient<P extends ProtocolDefinition = ProtocolDefinition> implements ConnectionOwner {
  readonly url: string
  readonly stats: ClientStats = { messagesIn: 0, messagesOut: 0, wireBytesIn: 0, wireBytesOut: 0, bodyBytesIn: 0, bodyBytesOut: 0 }
  readonly #options: ClientOptions<P>
  // The options' validator, else the runtime's.
  readonly #validator: PayloadValidator | undefined
  readonly #WebSocket: WebSocketClass
  // What every connection of this client shares with it (listeners, topics, awaited replies).
  readonly #shared: ConnectionShared
  readonly #ids = new IdCounter()
  // Created when something has to wait for a connection.
  #waiting: WaitingCalls | undefined
  #connection: Connection | undefined
  #state: ClientState = 'connecting'
  #negotiation: Negotiation | undefined
  #attempt = 0
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #closedByUser = false

  constructor (url: string, options: ClientOptions<P>, WebSocketImpl: WebSocketClass, platform: Platform, runtime: ClientRuntime = NO_RUNTIME) {
    this.url = url
    this.#options = options
    this.#validator = Object.hasOwn(options, 'validator') ? options.validator : runtime.validator
    const connectTimeoutMs = options.connectTimeoutMs
    if (connectTimeoutMs !== undefined && !(typeof connectTimeoutMs === 'number' && connectTimeoutMs >= 0)) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('connectTimeoutMs', 'must be a number of milliseconds, 0 or more (0: no limit)')
    }
    if (options.encoding === 'msgpack-compact' && options.protocol === undefined) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('encoding', 'msgpack-compact needs the protocol\'s schemas: pass { protocol }')
    }
    this.#WebSocket = WebSocketImpl
    this.#shared = {
      listeners: new ClientListeners(),
      topics: new TopicCursors(),
      requests: new PendingTable<unknown>(),
      platform,
      codec: options.codec,
      validates: options.validateIncoming === true,
      attach: runtime.attach ?? attachHandlers
    }
    this.#connect()
  }

  get #listeners (): ClientListeners {
    return this.#shared.listeners
  }

  get #topics (): TopicCursors {
    return this.#shared.topics
  }

  get #requests (): PendingTable<unknown> {
    return this.#shared.requests
  }

  /** The connection state. */
  get state (): ClientState {
    return this.#state
  }

  /** The server's negotiation message of the current connection. */
  get negotiation (): Negotiation | undefined {
    return this.#negotiation
  }

  /** Resolves once connected, negotiated and re-subscribed; rejects if the client closes first. */
  async ready (): Promise<Negotiation> {
    if (this.#state === 'open' && this.#negotiation !== undefined) return this.#negotiation
    if (this.#state === 'closed') throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the client is closed')
    return await (this.#waiting ??= new WaitingCalls()).ready()
  }

  /** Listens to state changes; returns a function that stops listening. */
  onStateChange (listener: (state: ClientState) => void): () => void {
    return this.#listeners.onState(listener)
  }

  /** Listens to errors not tied to a request or an ACK: ERROR without id (e.g. a refused `send` without `ack`, `eventType` naming it), bad incoming payloads. */
  onError (listener: (error: Error) => void): () => void {
    return this.#listeners.onError(listener)
  }

  /**
   * Listens to lost topic messages: answers to SUBSCRIBE (a resume history could not complete)
   * and notices the server sends when history could not fill a gap. Returns a function that
   * stops listening.
   */
  onGap (listener: (gap: TopicGap) => void): () => void {
    return this.#listeners.onGap(listener)
  }

  /** Listens to an event the server sends; returns a function that stops listening. */
  on<K extends ServerEventName<P>> (event: K, listener: (payload: EventPayload<P, K>, meta: EventMeta) => void | Promise<void>): () => void {
    return this.#listeners.onEvent(event, listener as Listener)
  }

  /** Sends a request; resolves to the typed response, rejects with WireboxRemoteError or a catalog error. */
  request<K extends RequestName<P>> (name: K, payload: RequestPayload<P, K>, options?: { timeoutMs?: number }): Promise<ResponsePayload<P, K>> {
    try {
      if (this.#validatesOutgoing()) {
        const definition = protocolTables(this.#options.protocol).requests.get(name)
        if (definition === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name)
        const invalid = this.#validate(definition.payload, payload, name)
        if (invalid !== undefined) throw invalid
      }
      const timeoutMs = options?.timeoutMs ?? this.#options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs
      // Connected: no queue and no extra promise in the way.
      if (this.#state === 'open') return this.#exchange(MessageType.REQUEST, name, payload, timeoutMs) as Promise<ResponsePayload<P, K>>
      return this.#whenOpen(async () => await this.#exchange(MessageType.REQUEST, name, payload, timeoutMs)) as Promise<ResponsePayload<P, K>>
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Sends an event a client may send; with `ack`, resolves once the server acknowledges it (version 3), else a refusal reaches `onError`. */
  async send<K extends ClientEventName<P>> (event: K, payload: EventPayload<P, K>, options: { ack?: boolean, priority?: boolean } = {}): Promise<void> {
    if (this.#validatesOutgoing()) {
      const schema = senderSchema(protocolTables(this.#options.protocol), 'client', event)
      const invalid = this.#validate(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    await this.#whenOpen(async () => {
      const connection = this.#live()
      const acks = connection.session.acks
      const ack = options.ack === true
      if (ack && (this.#negotiation?.version ?? 0) < 3) throw new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.#negotiation?.version ?? 0)
      const id = ack ? this.#ids.take() : undefined
      const flags = (options.priority === true ? Flag.PRIORITY : 0) | (ack ? Flag.ACK_REQUIRED : 0)
      const timeoutMs = this.#options.ackTimeoutMs ?? CLIENT_DEFAULTS.ackTimeoutMs
      const acked = id === undefined ? undefined : acks.wait(id, event, timeoutMs, () => new errors.WIREBOX_ERR_ACK_TIMEOUT(id, timeoutMs))
      acked?.catch(() => {}) // awaited below
      try {
        await connection.transmit(MessageType.EVENT, { event_type: event, payload, id }, flags)
      } catch (err) {
        if (id !== undefined) acks.reject(id, err as Error)
        throw err
      }
      await acked
    })
  }

  /** Subscribes to a topic (again after each reconnect, resuming after the last seq seen). */
  async subscribe (topic: string): Promise<SubscriptionAck> {
    this.#topics.add(topic)
    return await this.#whenOpen(async () => await this.#subscribeNow(topic))
  }

  /** Unsubscribes from a topic. */
  async unsubscribe (topic: string): Promise<SubscriptionAck> {
    this.#topics.remove(topic)
    return await this.#whenOpen(async () => await this.#exchange(MessageType.UNSUBSCRIBE, undefined, { topic })) as SubscriptionAck
  }

  /** The last `seq` seen on a topic. */
  lastSeq (topic: string): number | undefined {
    return this.#topics.last(topic)
  }

  /** Closes for good: pending requests and sends reject with WIREBOX_ERR_CONNECTION_CLOSED. */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    this.#closedByUser = true
    clearTimeout(this.#reconnectTimer)
    this.#failAll('closed by the client')
    this.#connection?.socket.close(code, reason)
    this.#setState('closed')
  }

  /** SUBSCRIBE now; the answer is accounted for as it is read, before any message that follows it. */
  async #subscribeNow (topic: string): Promise<SubscriptionAck> {
    const since = this.#topics.last(topic)
    return await this.#exchange(MessageType.SUBSCRIBE, undefined, since === undefined ? { topic } : { topic, since }, undefined, (answer) => {
      const gap = this.#topics.answer(answer as SubscriptionAck, since, true)
      if (gap !== undefined) this.#listeners.gap(gap)
    }) as SubscriptionAck
  }

  /**
   * Sends a message with a new id (named `eventType`, else by its type) and resolves with the
   * payload of its answer.
   */
  #exchange (type: number, eventType: string | undefined, payload: unknown, timeoutMs = this.#options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs, onAnswer?: (payload: unknown) => void): Promise<unknown> {
    try {
      const connection = this.#live()
      const id = this.#ids.take()
      const name = eventType ?? (type === MessageType.SUBSCRIBE ? 'subscribe' : 'unsubscribe')
      const answer = this.#requests.wait(id, name, timeoutMs, () => new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, timeoutMs), onAnswer)
      try {
        const sent = connection.transmit(type, eventType === undefined ? { payload, id } : { event_type: eventType, payload, id }, 0)
        if (sent instanceof Promise) sent.catch((err: unknown) => { this.#requests.reject(id, err as Error) })
      } catch (err) {
        this.#requests.reject(id, err as Error)
      }
      return answer
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #validatesOutgoing (): boolean {
    return this.#options.protocol !== undefined && this.#validator !== undefined && this.#options.validateOutgoing !== false
  }

  /** With `validateIncoming`: the problem of an incoming payload (an unknown event, an invalid payload). */
  [kProblem] (kind: 'event' | 'response', name: string | undefined, payload: unknown): WireboxError | undefined {
    if (this.#options.validateIncoming !== true || name === undefined) return undefined
    const tables = protocolTables(this.#options.protocol)
    const schema = kind === 'event' ? tables.fromServer.get(name) : tables.requests.get(name)?.response
    if (schema === undefined) return kind === 'event' ? eventProblem(tables, 'server', name) : undefined
    return this.#validate(schema, payload, name)
  }

  /** The problem of a payload, when a validator is given. */
  #validate (schema: TSchema, value: unknown, name: string): WireboxError | undefined {
    return this.#validator?.(schema, value, name)
  }

  /** Runs `run` now when open, else queues it for the next connection (or fails at once). */
  async #whenOpen<T> (run: () => Promise<T>): Promise<T> {
    if (this.#state === 'open') return await run()
    if (this.#state === 'closed') throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the client is closed')
    if (this.#options.queueWhileConnecting === false) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED(`not connected (${this.#state})`)
    if ((this.#waiting?.size ?? 0) >= (this.#options.maxQueue ?? CLIENT_DEFAULTS.maxQueue)) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the queue for the reconnection is full')
    return await (this.#waiting ??= new WaitingCalls()).call(run)
  }

  /** The current connection, once negotiated. */
  #live (): Connection {
    const connection = this.#connection
    if (connection?.encoder === undefined) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('not connected')
    return connection
  }

  #connect (): void {
    const url = connectUrl(this.url, this.#options)
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(url)
    } catch (err) {
      this[kReport](err as Error)
      this.#scheduleReconnect()
      return
    }
    // Node's `ws` hands over its own Buffer without a copy; elsewhere ArrayBuffers (a WebSocket
    // may ignore the unknown value, fall back, or throw, as React Native's does).
    try {
      socket.binaryType = 'nodebuffer'
    } catch {}
    if (socket.binaryType !== 'nodebuffer') socket.binaryType = 'arraybuffer'
    this.#connection = new Connection(this, socket, this.#shared)
    this.#connection.awaitNegotiation(this.#options.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs)
    this.#negotiation = undefined
  }

  /** A message of `connection`: the negotiation, the session's own, or the client's. */
  [kReceive] (connection: Connection, message: DecodedMessage): void {
    this.stats.messagesIn++
    this.stats.bodyBytesIn += message.bodySize
    if (message.type === MessageType.PROTOCOL_NEGOTIATION) return this.#onNegotiation(connection, message.envelope?.payload as Negotiation)
    const encoder = connection.encoder
    if (encoder !== undefined && connection.session.handle(message, encoder, ignore)) return
    handleIncoming(connection, message, message.envelope as Envelope)
  }

  #onNegotiation (connection: Connection, negotiation: Negotiation): void {
    let wire: NegotiatedWire
    try {
      wire = negotiatedWire(negotiation, this.#options.protocol, this.#shared.platform, this.#options.codec)
    } catch (err) {
      // A server with other schemas would misread every body (PROTOCOL.md 9.1): stop for good.
      this[kReport](err as Error)
      this.close(CloseCode.PROTOCOL_ERROR, 'layout mismatch')
      return
    }
    connection.negotiated()
    connection.encoder = wire.encoder
    connection.decoder = wire.decoder
    // The decoder returns strings sliced from one string of the message's text: the session id,
    // kept as long as the connection, is copied so as not to keep that whole text alive.
    if (typeof negotiation.session_id === 'string') negotiation.session_id = [...negotiation.session_id].join('')
    // Equal strings are kept once: the shared settings', not a copy per connection.
    const settings = wire.encoder.settings
    if (negotiation.encoding === settings.encoding) negotiation.encoding = settings.encoding
    if (negotiation.compression === settings.compression) negotiation.compression = settings.compression
    this.#negotiation = negotiation
    this.#attempt = 0
    connection.answer(MessageType.VERSION_CHECK, { payload: wire.versionCheck })
    connection.watchHeartbeat(negotiation.heartbeat_interval_ms)
    // Subscriptions first (resuming after the last seq seen), then what was queued meanwhile:
    // what the queued calls cause on a topic is then delivered on the resumed subscription.
    Promise.allSettled(this.#topics.topics().map(async (topic) => await this.#subscribeNow(topic)))
      .then((results) => {
        if (connection !== this.#connection) return
        for (const result of results) if (result.status === 'rejected') this[kReport](result.reason as Error)
        this.#setState('open')
        this.#takeWaiting()?.open(negotiation)
      }, () => {})
  }

  /** The socket of `connection` closed: what was sent is rejected, what is queued waits for the next one. */
  [kClosed] (connection: Connection, code: number): void {
    if (connection !== this.#connection) return
    connection.live = false
    this.#connection = undefined
    connection.decoder?.close()
    // What was sent may or may not have been handled: reject it. What is queued waits.
    const closed = (): Error => new errors.WIREBOX_ERR_CONNECTION_CLOSED(`code ${code}`)
    this.#requests.rejectAll(closed)
    connection.session.acks.rejectAll(closed)
    if (this.#closedByUser) return this.#setState('closed')
    this.#scheduleReconnect()
  }

  #scheduleReconnect (): void {
    const delay = reconnectDelay(this.#options.reconnect, this.#attempt)
    if (delay === undefined) {
      this.#failAll('no more reconnection attempts')
      return this.#setState('closed')
    }
    this.#attempt++
    this.#setState('reconnecting')
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
  }

  #failAll (reason: string): void {
    const closed = (): Error => new errors.WIREBOX_ERR_CONNECTION_CLOSED(reason)
    this.#requests.rejectAll(closed)
    this.#connection?.session.acks.rejectAll(closed)
    this.#takeWaiting()?.fail(closed)
  }

  /** What waits for the connection, forgotten by the client (it runs or fails once). */
  #takeWaiting (): WaitingCalls | undefined {
    const waiting = this.#waiting
    this.#waiting = undefined
    return waiting
  }

  #setState (state: ClientState): void {
    if (this.#state === state) return
    this.#state = state
    this.#listeners.state(state)
  }

  /** Tells the error listeners. */
  [kReport] (error: Error): void {
    this.#listeners.error(error)
  }
}
