/**
 * The typed client, for browsers and Node: negotiates, frames, checks, reassembles and
 * (de)compresses through the shared wire core; requests, events, ACKs, subscriptions; reconnects
 * with backoff and jitter and re-subscribes. Pure: the WebSocket class and the Platform are given
 * (see browser.ts and node.ts for the defaults of each).
 */
import { MessageDecoder, MessageEncoder } from '../core/wire.js'
import { utf8Length } from '../core/bytes.js'
import type { DecodedMessage } from '../core/wire.js'
import { Flag, MessageType } from '../core/constants.js'
import type { CompressionAlgorithm, Version } from '../core/constants.js'
import type { CodecOptions, Encoding } from '../core/codec.js'
import type { Platform } from '../core/platform.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import type { ErrorPayload } from '../../schemas/error.js'
import type { SubscriptionAck } from '../../schemas/subscription.js'
import { errors } from '../errors.js'
import { handshakeSettings, negotiatedSettings } from '../session/handshake.js'
import type { WireboxError } from '../errors.js'
import { protocolTables, validatePayload } from '../protocol.js'
import type { EventName, EventPayload, Protocol, ProtocolDefinition, RequestName, RequestPayload, ResponsePayload } from '../protocol.js'

/** The WebSocket API the client uses (the browser's, Node's global one, or `ws`). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly protocol: string
  onopen: ((event: unknown) => void) | null
  onclose: ((event: { code: number, reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  send (data: Uint8Array | string): void
  close (code?: number, reason?: string): void
}

/** A WebSocket constructor. */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocketLike

/** Reconnection with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** First delay in ms (default 250). */
  initialDelayMs?: number
  /** Largest delay in ms (default 10000). */
  maxDelayMs?: number
  /** Growth per attempt (default 2). */
  factor?: number
  /** Fraction of the delay drawn at random, 0-1 (default 0.5). */
  jitter?: number
  /** Attempts before giving up and closing (default: unlimited). */
  maxAttempts?: number
}

/** Client options. */
export interface ClientOptions<P extends ProtocolDefinition = ProtocolDefinition> {
  /** The protocol's schemas, to validate payloads (types come from the type parameter alone). */
  protocol?: Protocol<P>
  /** Body encoding to ask for (default 'messagepack'). */
  encoding?: Encoding
  /** Highest protocol version to speak (default 3). */
  version?: Version
  /** Compression to ask for (default 'gzip'). */
  compression?: CompressionAlgorithm | 'none'
  /** The WebSocket class (default: the platform's). */
  WebSocket?: WebSocketClass
  /** CRC32 and compression (default: the platform's). */
  platform?: Platform
  /** A request without an answer after this many ms rejects (default 30000). */
  requestTimeoutMs?: number
  /** A send with `ack: true` without an ACK after this many ms rejects (default 10000). */
  ackTimeoutMs?: number
  /** Refuse outgoing payloads that fail the protocol's schemas, before sending (default true with `protocol`). */
  validateOutgoing?: boolean
  /** Check incoming payloads against the protocol's schemas (default false). */
  validateIncoming?: boolean
  /** Reconnection, or false to stay closed (default: on, see ReconnectOptions). */
  reconnect?: ReconnectOptions | false
  /** While (re)connecting: queue requests and sends (true, default) or fail them at once (false). */
  queueWhileConnecting?: boolean
  /** Most requests and sends queued while connecting; more fail (default 100). */
  maxQueue?: number
  /** Codec limits (default: depth 64, no BigInt). */
  codec?: CodecOptions
  /** Extra query parameters for the URL (e.g. a token). */
  query?: Record<string, string>
}

/** Connection state. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** What an event listener gets besides the payload. */
export interface EventMeta {
  envelope: Envelope
  flags: number
  topic: string | undefined
  seq: number | undefined
}

/**
 * Messages of a topic the client will never receive (PROTOCOL.md "Lost messages"): `from` to
 * `to`, in the topic's seq. `reset`: the server's history of the topic started over (a restarted
 * server, an expired topic), so what followed `from - 1` in the old numbering is unknown (`to` is
 * undefined) and the numbering continues from `next`.
 */
export interface TopicGap {
  topic: string
  from: number
  to: number | undefined
  /** The first seq the client receives after the gap. */
  next: number
  reset: boolean
}

/** An ERROR the server sent, with its wire code (0x100...) and details. */
export class WireboxRemoteError extends Error {
  /** The protocol error code. */
  readonly wireCode: number
  /** Client-safe details, e.g. `{ path }`. */
  readonly details: unknown
  constructor (payload: ErrorPayload) {
    super(payload.message)
    this.name = 'WireboxRemoteError'
    this.wireCode = payload.code
    this.details = payload.details
  }
}

interface PendingRequest {
  name: string
  resolve: (payload: unknown) => void
  reject: (error: Error) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

interface Queued {
  run: () => void
  fail: (error: Error) => void
}

/** Traffic counters (for displays of bytes saved). */
export interface ClientStats {
  messagesIn: number
  messagesOut: number
  /** Bytes on the wire. */
  wireBytesIn: number
  wireBytesOut: number
  /** Bodies after decompression (in) and before compression (out). */
  bodyBytesIn: number
  bodyBytesOut: number
}

const OPEN = 1

/** The typed client. */
export class WireboxClient<P extends ProtocolDefinition = ProtocolDefinition> {
  readonly url: string
  readonly stats: ClientStats = { messagesIn: 0, messagesOut: 0, wireBytesIn: 0, wireBytesOut: 0, bodyBytesIn: 0, bodyBytesOut: 0 }
  readonly #options: ClientOptions<P>
  readonly #WebSocket: WebSocketClass
  readonly #platform: Platform
  readonly #listeners = new Map<string, Set<(payload: unknown, meta: EventMeta) => void | Promise<void>>>()
  readonly #stateListeners = new Set<(state: ClientState) => void>()
  readonly #errorListeners = new Set<(error: Error) => void>()
  readonly #gapListeners = new Set<(gap: TopicGap) => void>()
  readonly #pending = new Map<number, PendingRequest>()
  readonly #acks = new Map<number, PendingRequest>()
  readonly #topics = new Map<string, number | undefined>()
  #queue: Queued[] = []
  #socket: WebSocketLike | undefined
  #encoder: MessageEncoder | undefined
  #decoder: MessageDecoder | undefined
  #incoming: Promise<void> = Promise.resolve()
  #outgoing: Promise<unknown> = Promise.resolve()
  #state: ClientState = 'connecting'
  #negotiation: Negotiation | undefined
  #nextId = 1
  #attempt = 0
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined
  #lastSeen = 0
  #closedByUser = false
  #readyWaiters: Array<{ resolve: (n: Negotiation) => void, reject: (e: Error) => void }> = []

  constructor (url: string, options: ClientOptions<P>, WebSocketImpl: WebSocketClass, platform: Platform) {
    this.url = url
    this.#options = options
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

  /** Resolves once connected and negotiated; rejects if the client closes first. */
  async ready (): Promise<Negotiation> {
    if (this.#state === 'open' && this.#negotiation !== undefined) return this.#negotiation
    if (this.#state === 'closed') throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the client is closed')
    return await new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
  }

  /** Listens to state changes; returns a function that stops listening. */
  onStateChange (listener: (state: ClientState) => void): () => void {
    this.#stateListeners.add(listener)
    return () => this.#stateListeners.delete(listener)
  }

  /** Listens to errors not tied to a request (ERROR without id, bad incoming payloads). */
  onError (listener: (error: Error) => void): () => void {
    this.#errorListeners.add(listener)
    return () => this.#errorListeners.delete(listener)
  }

  /**
   * Listens to lost topic messages: answers to SUBSCRIBE (a resume history could not complete)
   * and notices the server sends when history could not fill a gap. Returns a function that
   * stops listening.
   */
  onGap (listener: (gap: TopicGap) => void): () => void {
    this.#gapListeners.add(listener)
    return () => this.#gapListeners.delete(listener)
  }

  /** Listens to an event; returns a function that stops listening. */
  on<K extends EventName<P>> (event: K, listener: (payload: EventPayload<P, K>, meta: EventMeta) => void | Promise<void>): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    const entry = listener as (payload: unknown, meta: EventMeta) => void | Promise<void>
    set.add(entry)
    return () => set.delete(entry)
  }

  /** Sends a request; resolves to the typed response, rejects with WireboxRemoteError or a catalog error. */
  async request<K extends RequestName<P>> (name: K, payload: RequestPayload<P, K>, options: { timeoutMs?: number } = {}): Promise<ResponsePayload<P, K>> {
    const definition = protocolTables(this.#options.protocol).requests.get(name)
    if (this.#validatesOutgoing()) {
      if (definition === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name)
      const invalid = validatePayload(definition.payload, payload, name)
      if (invalid !== undefined) throw invalid
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? 30_000
    return await new Promise<ResponsePayload<P, K>>((resolve, reject) => {
      const id = this.#takeId()
      const pending: PendingRequest = { name, resolve: resolve as (p: unknown) => void, reject, timer: undefined }
      this.#whenOpen(() => {
        pending.timer = setTimeout(() => {
          this.#pending.delete(id)
          reject(new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, timeoutMs))
        }, timeoutMs)
        this.#pending.set(id, pending)
        this.#transmit(MessageType.REQUEST, { event_type: name, timestamp: Date.now(), id, payload }, 0)
          .catch((err: Error) => this.#settle(this.#pending, id, err))
      }, reject)
    })
  }

  /** Sends an event; with `ack`, resolves once the server acknowledges it (version 3). */
  async send<K extends EventName<P>> (event: K, payload: EventPayload<P, K>, options: { ack?: boolean, priority?: boolean } = {}): Promise<void> {
    if (this.#validatesOutgoing()) {
      const schema = protocolTables(this.#options.protocol).events.get(event)
      if (schema === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', event)
      const invalid = validatePayload(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    await new Promise<void>((resolve, reject) => {
      this.#whenOpen(() => {
        const ack = options.ack === true
        if (ack && (this.#negotiation?.version ?? 0) < 3) {
          reject(new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.#negotiation?.version ?? 0))
          return
        }
        const id = ack ? this.#takeId() : undefined
        const flags = (options.priority === true ? Flag.PRIORITY : 0) | (ack ? Flag.ACK_REQUIRED : 0)
        if (id !== undefined) {
          const timeoutMs = this.#options.ackTimeoutMs ?? 10_000
          this.#acks.set(id, {
            name: event,
            resolve: () => resolve(),
            reject,
            timer: setTimeout(() => this.#settle(this.#acks, id, new errors.WIREBOX_ERR_ACK_TIMEOUT(id, timeoutMs)), timeoutMs)
          })
        }
        this.#transmit(MessageType.EVENT, { event_type: event, timestamp: Date.now(), payload, ...(id === undefined ? {} : { id }) }, flags)
          .then(() => { if (id === undefined) resolve() }, (err: Error) => {
            if (id !== undefined) this.#settle(this.#acks, id, err)
            else reject(err)
          })
      }, reject)
    })
  }

  /** Subscribes to a topic (again after each reconnect, resuming after the last seq seen). */
  async subscribe (topic: string): Promise<SubscriptionAck> {
    if (!this.#topics.has(topic)) this.#topics.set(topic, undefined)
    return await new Promise((resolve, reject) => {
      this.#whenOpen(() => { this.#subscribeNow(topic).then(resolve, reject) }, reject)
    })
  }

  /** Unsubscribes from a topic. */
  async unsubscribe (topic: string): Promise<SubscriptionAck> {
    this.#topics.delete(topic)
    return await new Promise((resolve, reject) => {
      this.#whenOpen(() => { this.#exchange(MessageType.UNSUBSCRIBE, 'unsubscribe', { topic }).then(resolve as (p: unknown) => void, reject) }, reject)
    })
  }

  /** The last `seq` seen on a topic. */
  lastSeq (topic: string): number | undefined {
    return this.#topics.get(topic)
  }

  /** Closes for good: pending requests and sends reject with WIREBOX_ERR_CONNECTION_CLOSED. */
  close (code = 1000, reason = ''): void {
    this.#closedByUser = true
    clearTimeout(this.#reconnectTimer)
    this.#failAll('closed by the client')
    this.#socket?.close(code, reason)
    this.#setState('closed')
  }

  /** SUBSCRIBE now (resuming after the last seq seen), and account for what the answer says was lost. */
  async #subscribeNow (topic: string): Promise<SubscriptionAck> {
    const since = this.#topics.get(topic)
    // Accounted for as the answer is read, before any message of the topic that follows it.
    return await this.#exchange(MessageType.SUBSCRIBE, 'subscribe', since === undefined ? { topic } : { topic, since }, (payload) => {
      const ack = payload as SubscriptionAck
      if (!this.#topics.has(topic)) return
      // A first subscription starts at the topic's seq, so a resume asks for everything after it.
      if (since === undefined) this.#topics.set(topic, ack.seq)
      else this.#accountFor(ack, since)
    }) as SubscriptionAck
  }

  /** Sends a control message with an id now and resolves with the answer's payload. */
  async #exchange (type: number, name: string, payload: unknown, onAnswer?: (payload: unknown) => void): Promise<unknown> {
    return await new Promise((resolve, reject) => {
      const id = this.#takeId()
      const timeoutMs = this.#options.requestTimeoutMs ?? 30_000
      this.#pending.set(id, {
        name,
        resolve: onAnswer === undefined
          ? resolve
          : (answer) => {
              onAnswer(answer)
              resolve(answer)
            },
        reject,
        timer: setTimeout(() => this.#settle(this.#pending, id, new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, timeoutMs)), timeoutMs)
      })
      this.#transmit(type, { event_type: name, timestamp: Date.now(), id, payload }, 0)
        .catch((err: Error) => this.#settle(this.#pending, id, err))
    })
  }

  /**
   * A SUBSCRIPTION_ACK with `recovered: false` (the answer to a SUBSCRIBE sent with `since`, or a
   * notice without id): reports the gap and continues the topic's seq from `first_seq`.
   */
  #accountFor (ack: SubscriptionAck, since: number | undefined): void {
    const { topic } = ack
    if (ack.recovered !== false) return
    const next = ack.first_seq ?? ack.seq + 1
    const last = since ?? this.#topics.get(topic) ?? 0
    const reset = last >= next
    if (reset || next > last + 1) {
      this.#emitGap({ topic, from: last + 1, to: reset ? undefined : next - 1, next, reset })
    }
    this.#topics.set(topic, next - 1)
  }

  #validatesOutgoing (): boolean {
    return this.#options.protocol !== undefined && this.#options.validateOutgoing !== false
  }

  #takeId (): number {
    const id = this.#nextId
    this.#nextId = (id + 1) >>> 0 || 1
    return id
  }

  #whenOpen (run: () => void, fail: (error: Error) => void): void {
    if (this.#state === 'open') return run()
    if (this.#state === 'closed') return fail(new errors.WIREBOX_ERR_CONNECTION_CLOSED('the client is closed'))
    if (this.#options.queueWhileConnecting === false) return fail(new errors.WIREBOX_ERR_CONNECTION_CLOSED(`not connected (${this.#state})`))
    if (this.#queue.length >= (this.#options.maxQueue ?? 100)) return fail(new errors.WIREBOX_ERR_CONNECTION_CLOSED('the queue for the reconnection is full'))
    this.#queue.push({ run, fail })
  }

  async #transmit (type: number, envelope: Envelope, flags: number): Promise<void> {
    const encoder = this.#encoder
    const socket = this.#socket
    if (encoder === undefined || socket === undefined) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('not connected')
    const encoded = encoder.encodeMessage({ type, flags, envelope })
    // Written in call order even when a large message compresses asynchronously.
    const written = this.#outgoing.then(async () => {
      const message = await encoded
      if (socket.readyState !== OPEN) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the socket closed before sending')
      for (const frame of message.frames) socket.send(frame)
      this.stats.messagesOut++
      this.stats.wireBytesOut += message.wireSize
      this.stats.bodyBytesOut += message.bodySize
    })
    this.#outgoing = written.catch(() => {})
    await written
  }

  #connect (): void {
    const o = this.#options
    const params = new URLSearchParams(o.query)
    params.set('encoding', o.encoding ?? 'messagepack')
    params.set('version', String(o.version ?? 3))
    params.set('compression', o.compression ?? 'gzip')
    const url = `${this.url}${this.url.includes('?') ? '&' : '?'}${params.toString()}`
    let socket: WebSocketLike
    try {
      socket = new this.#WebSocket(url)
    } catch (err) {
      this.#emitError(err as Error)
      this.#scheduleReconnect()
      return
    }
    socket.binaryType = 'arraybuffer'
    this.#socket = socket
    this.#decoder = undefined
    this.#encoder = undefined
    this.#negotiation = undefined
    socket.onmessage = (event) => this.#onMessage(socket, event.data)
    socket.onclose = (event) => this.#onClose(socket, event.code)
    socket.onerror = () => {} // the close that follows does the work
  }

  #onMessage (socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return
    this.#lastSeen = Date.now()
    const input = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer)
    this.stats.wireBytesIn += typeof input === 'string' ? utf8Length(input) : input.length
    this.#incoming = this.#incoming.then(async () => {
      if (socket !== this.#socket) return
      const decoder = this.#decoder ?? this.#firstDecoder(input)
      let message: DecodedMessage | undefined
      try {
        message = await decoder.decode(input)
      } catch (err) {
        this.#emitError(err as Error)
        return
      }
      if (message === undefined) return
      this.stats.messagesIn++
      this.stats.bodyBytesIn += message.bodySize
      this.#dispatch(message)
    })
  }

  /** Before the negotiation: the handshake's form (PROTOCOL.md section 1). */
  #firstDecoder (input: Uint8Array | string): MessageDecoder {
    return new MessageDecoder(handshakeSettings(input), { platform: this.#platform, codec: this.#options.codec })
  }

  #dispatch (message: DecodedMessage): void {
    const envelope = message.envelope
    switch (message.type) {
      case MessageType.PROTOCOL_NEGOTIATION: return this.#onNegotiation(envelope?.payload as Negotiation)
      case MessageType.RESPONSE: return this.#onResponse(envelope as Envelope)
      case MessageType.SUBSCRIPTION_ACK: {
        const id = envelope?.id
        if (id !== undefined) return this.#settle(this.#pending, id, undefined, envelope?.payload)
        // A notice of lost messages.
        const ack = envelope?.payload as SubscriptionAck | undefined
        if (ack !== undefined && this.#topics.has(ack.topic)) this.#accountFor(ack, undefined)
        return
      }
      case MessageType.ERROR: {
        const error = new WireboxRemoteError(envelope?.payload as ErrorPayload)
        const id = envelope?.id
        if (id !== undefined && this.#pending.has(id)) return this.#settle(this.#pending, id, error)
        if (id !== undefined && this.#acks.has(id)) return this.#settle(this.#acks, id, error)
        return this.#emitError(error)
      }
      case MessageType.ACK:
        if (envelope?.id !== undefined) this.#settle(this.#acks, envelope.id, undefined, undefined)
        return
      case MessageType.PING:
        this.#transmit(MessageType.PONG, { event_type: 'pong', timestamp: Date.now(), ...(envelope?.id === undefined ? {} : { id: envelope.id }) }, 0).catch(() => {})
        return
      case MessageType.EVENT: return this.#onEvent(message, envelope as Envelope)
      default:
    }
  }

  #onNegotiation (negotiation: Negotiation): void {
    const settings = negotiatedSettings(negotiation)
    const context = { platform: this.#platform, codec: this.#options.codec }
    this.#encoder = new MessageEncoder(settings, context)
    this.#decoder = new MessageDecoder({ encoding: settings.encoding, version: settings.version, compression: settings.compression, maxMessageSize: settings.maxMessageSize }, context)
    this.#negotiation = negotiation
    this.#attempt = 0
    this.#transmit(MessageType.VERSION_CHECK, { event_type: 'version_check', timestamp: Date.now(), payload: { version: negotiation.version, encoding: negotiation.encoding } }, 0).catch(() => {})
    this.#startHeartbeat(negotiation.heartbeat_interval_ms)
    // Subscriptions first (resuming after the last seq seen), then what was queued meanwhile:
    // what the queued calls cause on a topic is then delivered on the resumed subscription.
    const socket = this.#socket
    Promise.allSettled([...this.#topics.keys()].map(async (topic) => await this.#subscribeNow(topic)))
      .then((results) => {
        if (socket !== this.#socket) return
        for (const result of results) if (result.status === 'rejected') this.#emitError(result.reason as Error)
        this.#setState('open')
        const queued = this.#queue
        this.#queue = []
        for (const item of queued) item.run()
        for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(negotiation)
      }, () => {})
  }

  #onResponse (envelope: Envelope): void {
    const id = envelope.id
    if (id === undefined) return
    const pending = this.#pending.get(id)
    if (pending === undefined) return
    if (this.#options.validateIncoming === true) {
      const schema = protocolTables(this.#options.protocol).requests.get(pending.name)?.response
      const invalid = schema === undefined ? undefined : validatePayload(schema, envelope.payload, pending.name)
      if (invalid !== undefined) return this.#settle(this.#pending, id, invalid)
    }
    this.#settle(this.#pending, id, undefined, envelope.payload)
  }

  #onEvent (message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    if (envelope.topic !== undefined && envelope.seq !== undefined && this.#topics.has(envelope.topic)) {
      // Exactly once: a topic message at or below the last seq seen is not delivered again.
      if (envelope.seq <= (this.#topics.get(envelope.topic) ?? 0)) return
      this.#topics.set(envelope.topic, envelope.seq)
    }
    if (this.#options.validateIncoming === true) {
      const schema = protocolTables(this.#options.protocol).events.get(name)
      const invalid: WireboxError | undefined = schema === undefined
        ? new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', name)
        : validatePayload(schema, envelope.payload, name)
      if (invalid !== undefined) return this.#emitError(invalid)
    }
    const meta: EventMeta = { envelope, flags: message.flags, topic: envelope.topic, seq: envelope.seq }
    const runs = [...(this.#listeners.get(name) ?? [])].map(async (listener) => await listener(envelope.payload, meta))
    if ((message.flags & Flag.ACK_REQUIRED) === 0 || envelope.id === undefined) {
      for (const run of runs) run.catch((err: Error) => this.#emitError(err))
      return
    }
    const id = envelope.id
    Promise.all(runs).then(
      () => this.#transmit(MessageType.ACK, { event_type: name, timestamp: Date.now(), id }, 0),
      (err: Error) => {
        this.#emitError(err)
        return this.#transmit(MessageType.ERROR, { event_type: 'error', timestamp: Date.now(), id, payload: { code: 0x300, message: `Internal error while handling "${name}"` } }, 0)
      }).catch(() => {})
  }

  #settle (map: Map<number, PendingRequest>, id: number, error: Error | undefined, payload?: unknown): void {
    const pending = map.get(id)
    if (pending === undefined) return
    map.delete(id)
    clearTimeout(pending.timer)
    if (error !== undefined) pending.reject(error)
    else pending.resolve(payload)
  }

  #startHeartbeat (intervalMs: number): void {
    clearInterval(this.#heartbeatTimer)
    if (intervalMs <= 0) return
    this.#lastSeen = Date.now()
    const timer = setInterval(() => {
      // The server pings every interval: silence for two means the connection is gone.
      if (Date.now() - this.#lastSeen > 2 * intervalMs) this.#socket?.close(4000, 'heartbeat timeout')
    }, intervalMs)
    ;(timer as { unref?: () => void }).unref?.()
    this.#heartbeatTimer = timer
  }

  #onClose (socket: WebSocketLike, code: number): void {
    if (socket !== this.#socket) return
    clearInterval(this.#heartbeatTimer)
    this.#socket = undefined
    this.#encoder = undefined
    this.#decoder?.close()
    // What was sent may or may not have been handled: reject it. What is queued waits.
    this.#failPending(`code ${code}`)
    if (this.#closedByUser) return this.#setState('closed')
    this.#scheduleReconnect()
  }

  #scheduleReconnect (): void {
    const r = this.#options.reconnect
    const attempts = r === false ? 0 : (r?.maxAttempts ?? Number.POSITIVE_INFINITY)
    if (this.#attempt >= attempts) {
      this.#failAll('no more reconnection attempts')
      return this.#setState('closed')
    }
    const initial = (r === false ? undefined : r?.initialDelayMs) ?? 250
    const max = (r === false ? undefined : r?.maxDelayMs) ?? 10_000
    const factor = (r === false ? undefined : r?.factor) ?? 2
    const jitter = Math.min(1, Math.max(0, (r === false ? undefined : r?.jitter) ?? 0.5))
    const base = Math.min(max, initial * factor ** this.#attempt)
    const delay = base * (1 - jitter * Math.random())
    this.#attempt++
    this.#setState('reconnecting')
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
  }

  #failPending (reason: string): void {
    for (const map of [this.#pending, this.#acks]) {
      for (const id of [...map.keys()]) this.#settle(map, id, new errors.WIREBOX_ERR_CONNECTION_CLOSED(reason))
    }
  }

  #failAll (reason: string): void {
    this.#failPending(reason)
    for (const item of this.#queue.splice(0)) item.fail(new errors.WIREBOX_ERR_CONNECTION_CLOSED(reason))
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(new errors.WIREBOX_ERR_CONNECTION_CLOSED(reason))
  }

  #setState (state: ClientState): void {
    if (this.#state === state) return
    this.#state = state
    for (const listener of this.#stateListeners) listener(state)
  }

  #emitGap (gap: TopicGap): void {
    for (const listener of this.#gapListeners) {
      try {
        listener(gap)
      } catch (err) {
        this.#emitError(err as Error)
      }
    }
  }

  #emitError (error: Error): void {
    for (const listener of this.#errorListeners) listener(error)
  }
}
