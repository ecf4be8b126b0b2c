/**
 * The typed client, for browsers and Node: its API (requests, events, ACKs, subscriptions),
 * listeners and reconnection, over the session rules it shares with the server (lib/session).
 * Pure: the WebSocket class and the Platform are given (see browser.ts and node.ts).
 */
import { MessageDecoder, MessageEncoder } from '../core/wire.js'
import { utf8Length } from '../core/bytes.js'
import type { DecodedMessage, EncodedMessage } from '../core/wire.js'
import { Flag, MessageType } from '../core/constants.js'
import type { Platform } from '../core/platform.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import type { ErrorPayload } from '../../schemas/error.js'
import type { SubscriptionAck } from '../../schemas/subscription.js'
import { CloseCode, WireCode, errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import type { TSchema } from '@sinclair/typebox'
import { eventProblem, protocolTables, senderSchema } from '../protocol-tables.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, RequestPayload, ResponsePayload, ServerEventName } from '../protocol.js'
import { handshakeSettings, negotiatedSettings } from '../session/handshake.js'
import { assertSameLayout, compileLayout } from '../core/compact/layout.js'
import type { CompactLayout } from '../core/compact/layout.js'
import { Session } from '../session/session.js'
import type { MessageFields } from '../session/session.js'
import { IdCounter, PendingTable } from '../session/pending.js'
import { Inbox } from '../session/inbox.js'
import { CLIENT_DEFAULTS, connectUrl, reconnectDelay } from './reconnect.js'
import { TopicCursors } from './topic-cursors.js'
import { ClientListeners } from './listeners.js'
import type { TopicGap } from './topic-cursors.js'

import { WireboxRemoteError } from './types.js'
import type { ClientOptions, ClientState, ClientStats, EventMeta, WebSocketClass, WebSocketLike } from './types.js'

export { WireboxRemoteError } from './types.js'
export type { ClientOptions, ClientState, ClientStats, EventMeta, PayloadValidator, RemoteProblem, WebSocketClass, WebSocketLike } from './types.js'
export type { ReconnectOptions } from './reconnect.js'
export { CLIENT_DEFAULTS } from './reconnect.js'
export type { TopicGap } from './topic-cursors.js'

type Listener = (payload: unknown, meta: EventMeta) => void | Promise<void>

const OPEN = 1

/** The typed client. */
export class WireboxClient<P extends ProtocolDefinition = ProtocolDefinition> {
  readonly url: string
  readonly stats: ClientStats = { messagesIn: 0, messagesOut: 0, wireBytesIn: 0, wireBytesOut: 0, bodyBytesIn: 0, bodyBytesOut: 0 }
  readonly #options: ClientOptions<P>
  readonly #WebSocket: WebSocketClass
  readonly #platform: Platform
  readonly #listeners = new ClientListeners()
  readonly #requests = new PendingTable<unknown>()
  readonly #ids = new IdCounter()
  readonly #topics = new TopicCursors()
  #queue: Array<{ run: () => void, fail: (error: Error) => void }> = []
  #socket: WebSocketLike | undefined
  #session: Session | undefined
  #inbox: Inbox | undefined
  #encoder: MessageEncoder | undefined
  #decoder: MessageDecoder | undefined
  #state: ClientState = 'connecting'
  #negotiation: Negotiation | undefined
  #attempt = 0
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #stopHeartbeat: () => void = () => {}
  #closedByUser = false
  #readyWaiters: Array<{ resolve: (n: Negotiation) => void, reject: (e: Error) => void }> = []

  constructor (url: string, options: ClientOptions<P>, WebSocketImpl: WebSocketClass, platform: Platform) {
    this.url = url
    this.#options = options
    if (options.encoding === 'msgpack-compact' && options.protocol === undefined) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('encoding', 'msgpack-compact needs the protocol\'s schemas: pass { protocol }')
    }
    this.#WebSocket = WebSocketImpl
    this.#platform = platform
    this.#connect()
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
    return await new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
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
  async request<K extends RequestName<P>> (name: K, payload: RequestPayload<P, K>, options: { timeoutMs?: number } = {}): Promise<ResponsePayload<P, K>> {
    if (this.#validatesOutgoing()) {
      const definition = protocolTables(this.#options.protocol).requests.get(name)
      if (definition === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name)
      const invalid = this.#validate(definition.payload, payload, name)
      if (invalid !== undefined) throw invalid
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs
    return await this.#whenOpen(async () => await this.#exchange(MessageType.REQUEST, { event_type: name, payload }, timeoutMs)) as ResponsePayload<P, K>
  }

  /** Sends an event a client may send; with `ack`, resolves once the server acknowledges it (version 3), else a refusal reaches `onError`. */
  async send<K extends ClientEventName<P>> (event: K, payload: EventPayload<P, K>, options: { ack?: boolean, priority?: boolean } = {}): Promise<void> {
    if (this.#validatesOutgoing()) {
      const schema = senderSchema(protocolTables(this.#options.protocol), 'client', event)
      const invalid = this.#validate(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    await this.#whenOpen(async () => {
      const session = this.#live()
      const ack = options.ack === true
      if (ack && (this.#negotiation?.version ?? 0) < 3) throw new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.#negotiation?.version ?? 0)
      const id = ack ? this.#ids.take() : undefined
      const flags = (options.priority === true ? Flag.PRIORITY : 0) | (ack ? Flag.ACK_REQUIRED : 0)
      const timeoutMs = this.#options.ackTimeoutMs ?? CLIENT_DEFAULTS.ackTimeoutMs
      const acked = id === undefined ? undefined : session.acks.wait(id, event, timeoutMs, () => new errors.WIREBOX_ERR_ACK_TIMEOUT(id, timeoutMs))
      acked?.catch(() => {}) // awaited below
      try {
        await this.#transmit(session, MessageType.EVENT, { event_type: event, payload, id }, flags)
      } catch (err) {
        if (id !== undefined) session.acks.reject(id, err as Error)
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
    return await this.#whenOpen(async () => await this.#exchange(MessageType.UNSUBSCRIBE, { payload: { topic } })) as SubscriptionAck
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
    this.#socket?.close(code, reason)
    this.#setState('closed')
  }

  /** SUBSCRIBE now; the answer is accounted for as it is read, before any message that follows it. */
  async #subscribeNow (topic: string): Promise<SubscriptionAck> {
    const since = this.#topics.last(topic)
    return await this.#exchange(MessageType.SUBSCRIBE, { payload: since === undefined ? { topic } : { topic, since } }, undefined, (answer) => {
      const gap = this.#topics.answer(answer as SubscriptionAck, since, true)
      if (gap !== undefined) this.#emitGap(gap)
    }) as SubscriptionAck
  }

  /** Sends a message with a new id and resolves with the payload of its answer. */
  async #exchange (type: number, fields: MessageFields, timeoutMs = this.#options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs, onAnswer?: (payload: unknown) => void): Promise<unknown> {
    const session = this.#live()
    const id = this.#ids.take()
    const name = fields.event_type ?? (type === MessageType.SUBSCRIBE ? 'subscribe' : 'unsubscribe')
    const answer = this.#requests.wait(id, name, timeoutMs, () => new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, timeoutMs), onAnswer)
    this.#transmit(session, type, { ...fields, id }, 0).catch((err: Error) => this.#requests.reject(id, err))
    return await answer
  }

  #validatesOutgoing (): boolean {
    return this.#options.protocol !== undefined && this.#options.validator !== undefined && this.#options.validateOutgoing !== false
  }

  /** With `validateIncoming`: the problem of an incoming payload (an unknown event, an invalid payload). */
  #incomingProblem (kind: 'event' | 'response', name: string | undefined, payload: unknown): WireboxError | undefined {
    if (this.#options.validateIncoming !== true || name === undefined) return undefined
    const tables = protocolTables(this.#options.protocol)
    const schema = kind === 'event' ? tables.fromServer.get(name) : tables.requests.get(name)?.response
    if (schema === undefined) return kind === 'event' ? eventProblem(tables, 'server', name) : undefined
    return this.#validate(schema, payload, name)
  }

  /** The problem of a payload, when a validator is given. */
  #validate (schema: TSchema, value: unknown, name: string): WireboxError | undefined {
    return this.#options.validator?.(schema, value, name)
  }

  /** Runs `run` now when open, else queues it for the next connection (or fails at once). */
  async #whenOpen<T> (run: () => Promise<T>): Promise<T> {
    if (this.#state === 'open') return await run()
    if (this.#state === 'closed') throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the client is closed')
    if (this.#options.queueWhileConnecting === false) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED(`not connected (${this.#state})`)
    if (this.#queue.length >= (this.#options.maxQueue ?? CLIENT_DEFAULTS.maxQueue)) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the queue for the reconnection is full')
    return await new Promise<T>((resolve, reject) => this.#queue.push({ run: () => { run().then(resolve, reject) }, fail: reject }))
  }

  /** The session of the current connection, once negotiated. */
  #live (): Session {
    if (this.#session === undefined || this.#encoder === undefined) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('not connected')
    return this.#session
  }

  async #transmit (session: Session, type: number, fields: MessageFields, flags: number): Promise<void> {
    const encoder = this.#encoder
    if (encoder === undefined || session !== this.#session) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('not connected')
    if (!await session.send(encoder, type, fields, flags)) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the socket closed before sending')
  }

  #connect (): void {
    const url = connectUrl(this.url, this.#options)
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(url)
    } catch (err) {
      this.#emitError(err as Error)
      this.#scheduleReconnect()
      return
    }
    socket.binaryType = 'arraybuffer'
    const session = new Session((message) => this.#write(socket, message))
    this.#socket = socket
    this.#session = session
    this.#decoder = undefined
    this.#encoder = undefined
    this.#negotiation = undefined
    this.#inbox = new Inbox({
      open: () => socket === this.#socket,
      // Before the negotiation: the handshake's form (PROTOCOL.md section 1).
      decode: async (input) => await (this.#decoder ?? new MessageDecoder(handshakeSettings(input), { platform: this.#platform, codec: this.#options.codec })).decode(input),
      handle: (message) => this.#receive(session, message),
      fail: (err) => this.#emitError(err as Error)
    })
    socket.onmessage = (event) => this.#onMessage(socket, event.data)
    socket.onclose = (event) => this.#onClose(socket, event.code)
    socket.onerror = () => {} // the close that follows does the work
  }

  #write (socket: WebSocketLike, message: EncodedMessage): boolean {
    if (socket.readyState !== OPEN) return false
    for (const frame of message.frames) socket.send(frame)
    this.stats.messagesOut++
    this.stats.wireBytesOut += message.wireSize
    this.stats.bodyBytesOut += message.bodySize
    return true
  }

  #onMessage (socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return
    this.#session?.liveness.seen()
    const input = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer)
    this.stats.wireBytesIn += typeof input === 'string' ? utf8Length(input) : input.length
    this.#inbox?.push(input)
  }

  #receive (session: Session, message: DecodedMessage): void {
    this.stats.messagesIn++
    this.stats.bodyBytesIn += message.bodySize
    if (message.type === MessageType.PROTOCOL_NEGOTIATION) return this.#onNegotiation(session, message.envelope?.payload as Negotiation)
    const encoder = this.#encoder
    if (encoder !== undefined && session.handle(message, encoder, () => {})) return
    const envelope = message.envelope as Envelope
    const id = envelope?.id
    switch (message.type) {
      case MessageType.RESPONSE: return this.#onResponse(envelope)
      case MessageType.SUBSCRIPTION_ACK: {
        if (id !== undefined) {
          this.#requests.resolve(id, envelope.payload)
          return
        }
        // A notice of lost messages.
        const gap = this.#topics.answer(envelope.payload as SubscriptionAck, undefined, false)
        if (gap !== undefined) this.#emitGap(gap)
        return
      }
      case MessageType.ERROR: {
        const error = new WireboxRemoteError(envelope.payload as ErrorPayload)
        if (id !== undefined && (this.#requests.reject(id, error) || session.acks.reject(id, error))) return
        return this.#emitError(error)
      }
      case MessageType.EVENT: return this.#onEvent(session, message, envelope)
      default:
    }
  }

  #onNegotiation (session: Session, negotiation: Negotiation): void {
    const settings = negotiatedSettings(negotiation)
    let layout: CompactLayout | undefined
    if (negotiation.encoding === 'msgpack-compact') {
      try {
        layout = compileLayout(this.#options.protocol ?? {})
        // A server with other schemas would misread every body (PROTOCOL.md 9.1): stop for good.
        assertSameLayout(layout, negotiation.layout)
      } catch (err) {
        this.#emitError(err as Error)
        this.close(CloseCode.PROTOCOL_ERROR, 'layout mismatch')
        return
      }
    }
    const context = { platform: this.#platform, codec: this.#options.codec, layout }
    this.#encoder = new MessageEncoder(settings, context)
    this.#decoder = new MessageDecoder({ encoding: settings.encoding, version: settings.version, compression: settings.compression, maxMessageSize: settings.maxMessageSize }, context)
    this.#negotiation = negotiation
    this.#attempt = 0
    const versionCheck = { version: negotiation.version, encoding: negotiation.encoding, ...(layout === undefined ? {} : { layout_hash: layout.hash }) }
    this.#transmit(session, MessageType.VERSION_CHECK, { payload: versionCheck }, 0).catch(() => {})
    this.#stopHeartbeat()
    // The server pings every interval: silence for two means the connection is gone.
    this.#stopHeartbeat = session.liveness.watch(negotiation.heartbeat_interval_ms, () => this.#socket?.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout'))
    // Subscriptions first (resuming after the last seq seen), then what was queued meanwhile:
    // what the queued calls cause on a topic is then delivered on the resumed subscription.
    Promise.allSettled(this.#topics.topics().map(async (topic) => await this.#subscribeNow(topic)))
      .then((results) => {
        if (session !== this.#session) return
        for (const result of results) if (result.status === 'rejected') this.#emitError(result.reason as Error)
        this.#setState('open')
        for (const item of this.#queue.splice(0)) item.run()
        for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(negotiation)
      }, () => {})
  }

  #onResponse (envelope: Envelope): void {
    const id = envelope.id
    if (id === undefined) return
    const invalid = this.#incomingProblem('response', this.#requests.nameOf(id), envelope.payload)
    if (invalid !== undefined) this.#requests.reject(id, invalid)
    else this.#requests.resolve(id, envelope.payload)
  }

  #onEvent (session: Session, message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    // Exactly once: a topic message at or below the last seq seen is not delivered again.
    if (envelope.topic !== undefined && envelope.seq !== undefined && !this.#topics.accept(envelope.topic, envelope.seq)) return
    const invalid = this.#incomingProblem('event', name, envelope.payload)
    if (invalid !== undefined) return this.#emitError(invalid)
    const meta: EventMeta = { envelope, flags: message.flags, topic: envelope.topic, seq: envelope.seq }
    const runs = this.#listeners.event(name, envelope.payload, meta)
    const id = envelope.id
    if ((message.flags & Flag.ACK_REQUIRED) === 0 || id === undefined) {
      for (const run of runs) run.catch((err: Error) => this.#emitError(err))
      return
    }
    Promise.all(runs).then(
      async () => await this.#transmit(session, MessageType.ACK, { event_type: name, id }, 0),
      async (err: Error) => {
        this.#emitError(err)
        const payload = { code: WireCode.INTERNAL_ERROR, message: new errors.WIREBOX_ERR_INTERNAL(name).message }
        await this.#transmit(session, MessageType.ERROR, { id, payload }, 0)
      }).catch(() => {})
  }

  #onClose (socket: WebSocketLike, code: number): void {
    if (socket !== this.#socket) return
    this.#stopHeartbeat()
    const session = this.#session
    this.#socket = undefined
    this.#session = undefined
    this.#encoder = undefined
    this.#decoder?.close()
    // What was sent may or may not have been handled: reject it. What is queued waits.
    const closed = (): Error => new errors.WIREBOX_ERR_CONNECTION_CLOSED(`code ${code}`)
    this.#requests.rejectAll(closed)
    session?.acks.rejectAll(closed)
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
    this.#session?.acks.rejectAll(closed)
    for (const item of this.#queue.splice(0)) item.fail(closed())
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(closed())
  }

  #setState (state: ClientState): void {
    if (this.#state === state) return
    this.#state = state
    this.#listeners.state(state)
  }

  #emitGap (gap: TopicGap): void {
    this.#listeners.gap(gap)
  }

  #emitError (error: Error): void {
    this.#listeners.error(error)
  }
}
