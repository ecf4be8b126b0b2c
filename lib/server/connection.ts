/**
 * One negotiated WebSocket connection, as users see it: handlers (`on`, `handle`), `send`,
 * `subscribe`, `close`. Its state and rules are in connection-core.ts; underneath: the shared
 * session rules (lib/session), inbound events and requests (inbound.ts), subscriptions
 * (subscriptions.ts), the outbound policy (outbound.ts), the rate limit and the heartbeat.
 * Knows nothing of byte offsets: the wire core does that.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { Flag, MessageType } from '../core/constants.js'
import type { CompressionAlgorithm, Version } from '../core/constants.js'
import type { Encoding } from '../core/codec.js'
import { CloseCode, errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { senderSchema, validatePayload } from '../protocol.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, ServerEventName } from '../protocol.js'
import type { Negotiated } from '../negotiation.js'
import { Session } from '../session/session.js'
import { negotiationPayload } from '../session/handshake.js'
import { ConnectionCore } from './connection-core.js'
import { channels } from './diagnostics.js'
import type { ConnectionOpenMessage } from './diagnostics.js'
import type { EventHandler, RequestHandler, RouteContext, SendOptions } from './types.js'

export type { EventHandler, HandlerContext, RequestHandler, RouteContext, RouteHandlers, SendOptions } from './types.js'

/** A client connected to a wirebox route. */
export class WireboxConnection<P extends ProtocolDefinition = ProtocolDefinition> {
  /** The underlying WebSocket. */
  readonly socket: WebSocket
  readonly #core: ConnectionCore<P>

  /**
   * `log` is the upgrade request's logger. The request itself is the setup function's second
   * argument and is not kept: an idle connection holding its request, headers and read buffer
   * cost ~2 KB (capture what handlers need from it in the setup function).
   */
  constructor (socket: WebSocket, log: FastifyBaseLogger, negotiated: Negotiated, route: RouteContext) {
    this.socket = socket
    this.#core = new ConnectionCore<P>(this, socket, log, negotiated, route)
  }

  /** The session id sent in the negotiation. */
  get id (): string {
    return this.#core.id
  }

  /** Negotiated encoding. */
  get encoding (): Encoding {
    return this.#core.encoder.settings.encoding
  }

  /** Negotiated protocol version. */
  get version (): Version {
    return this.#core.encoder.settings.version
  }

  /** Negotiated compression. */
  get compression (): CompressionAlgorithm | 'none' {
    return this.#core.encoder.settings.compression
  }

  /** Sends the negotiation message (the first message on every connection), in the handshake's form. */
  sendNegotiation (negotiated: Negotiated): void {
    const core = this.#core
    const { path, layout, options: o } = core.route
    const payload = negotiationPayload(negotiated, { compressionThreshold: o.compression.threshold, maxMessageSize: o.maxMessageSize, heartbeatIntervalMs: o.heartbeatIntervalMs, chunkSize: o.chunkSize }, this.id, layout?.summary)
    core.reply(MessageType.PROTOCOL_NEGOTIATION, { payload }, core.handshakeEncoder(negotiated))
    if (channels.connectionOpen.hasSubscribers) {
      channels.connectionOpen.publish({ session: this.id, path, encoding: this.encoding, version: this.version, compression: this.compression } satisfies ConnectionOpenMessage)
    }
  }

  /** Refuses the connection after the upgrade (e.g. an unsupported version): ERROR, then close. */
  refuse (error: WireboxError, negotiated: Negotiated): void {
    this.#core.fail(error, undefined, undefined, this.#core.handshakeEncoder(negotiated))
  }

  /** Registers the handler of a client event. */
  on<K extends ClientEventName<P>> (event: K, handler: EventHandler<P, K>): this {
    this.#core.inbound.on(event, handler)
    return this
  }

  /** Registers the handler of a request; its return value is the response. */
  handle<K extends RequestName<P>> (request: K, handler: RequestHandler<P, K>): this {
    this.#core.inbound.handle(request, handler)
    return this
  }

  /** Runs `fn` when the connection closes. */
  onClose (fn: (code: number) => void): this {
    this.#core.onClose(fn)
    return this
  }

  /** True once the connection closed. */
  get closed (): boolean {
    return this.#core.closed
  }

  /** Topics this connection is subscribed to, in the order subscribed: a snapshot, made at each call. */
  get subscriptions (): ReadonlySet<string> {
    return new Set(this.#core.topics)
  }

  /**
   * Sends an event. Resolves to true when written (with `ack`: when acknowledged), false when
   * dropped under back-pressure or the connection closed. Rejects for an unknown event, one only
   * clients send (WIREBOX_ERR_WRONG_DIRECTION) or an invalid payload; with `ack`, on a timeout
   * (WIREBOX_ERR_ACK_TIMEOUT) or a close (WIREBOX_ERR_CONNECTION_CLOSED).
   */
  async send<K extends ServerEventName<P>> (event: K, payload: EventPayload<P, K>, options: SendOptions = {}): Promise<boolean> {
    const core = this.#core
    if (core.route.validateOutgoing) {
      const schema = senderSchema(core.route, 'server', event)
      const invalid = validatePayload(schema, payload, event)
      if (invalid !== undefined) throw invalid
    }
    if (options.ack === true && this.version < 3) throw new errors.WIREBOX_ERR_ACK_UNSUPPORTED(this.version)
    const id = options.ack === true ? core.route.nextAckId() : undefined
    const flags = (options.priority === true ? Flag.PRIORITY : 0) | (id === undefined ? 0 : Flag.ACK_REQUIRED)
    const envelope = Session.envelope(MessageType.EVENT, { event_type: event, payload, id })
    const encoded = core.encoder.encodeNow({ type: MessageType.EVENT, flags, envelope })
    // A message that must be acknowledged is never dropped, as PRIORITY ones are not.
    const delivered = await core.deliver(encoded, MessageType.EVENT, options.priority !== true && id === undefined, id, event, options.ackTimeoutMs)
    if (id !== undefined && !delivered) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('before the ACK arrived')
    return delivered
  }

  /** Subscribes this connection to a topic (server side; clients send SUBSCRIBE). Resolves to the topic's seq; rejects with WIREBOX_ERR_CONNECTION_CLOSED once the connection is closed. */
  async subscribe (topic: string): Promise<number> {
    if (this.#core.closed) throw new errors.WIREBOX_ERR_CONNECTION_CLOSED('the connection is closed')
    return await this.#core.subscriptions().add(topic)
  }

  /** Unsubscribes from a topic; returns whether it was subscribed. */
  unsubscribe (topic: string): boolean {
    return this.#core.unsubscribe(topic)
  }

  /** Closes the connection. */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    this.#core.close(code, reason)
  }
}
