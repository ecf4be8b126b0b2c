/** What a connection needs of its route, and the types of handlers and sends. */
import type { PartialBudget } from '../core/chunking.js'
import type { CompactLayout } from '../core/compact/layout.js'
import type { MessageDecoder, MessageEncoder } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, RequestPayload, ResponsePayload } from '../protocol.js'
import type { ProtocolTables } from '../protocol-tables.js'
import type { Negotiated } from '../negotiation.js'
import type { ResolvedOptions } from '../options.js'
import type { Metrics } from '../metrics.js'
import type { Topics } from '../topics/registry.js'
import type { WireboxConnection } from './connection.js'
import type { HandlerSlots } from './inbound.js'

/**
 * What a connection needs of its route; its ProtocolTables are the protocol's events (all, the
 * server's, the clients') and requests by name (Maps: names come from the wire).
 */
export interface RouteContext extends ProtocolTables {
  readonly path: string
  readonly options: Readonly<ResolvedOptions>
  readonly validateOutgoing: boolean
  readonly metrics: Metrics
  readonly topics: Topics
  /** Bytes of incomplete chunked messages every connection of the plugin may hold together. */
  readonly partialBudget: PartialBudget
  /** Where each client event's and request's handler goes in a connection's handler array. */
  readonly handlerSlots: HandlerSlots
  /** The route's own handlers (option `handle` and `on`), by the same slots: shared by every connection. */
  readonly handlers: ReadonlyArray<unknown>
  /** The protocol's msgpack-compact layout, when the route allows that encoding. */
  readonly layout: CompactLayout | undefined
  /** The shared encoder of a variant (encode once for every socket of it). */
  encoderFor (negotiated: Negotiated): MessageEncoder
  /** A decoder for one connection of a variant, from settings checked once per route. */
  decoderFor (negotiated: Negotiated): MessageDecoder
  /** Message ids for ACK_REQUIRED messages, unique in the plugin. */
  nextAckId (): number
  /** Called when a connection closes. */
  forget (connection: WireboxConnection): void
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
export type EventHandler<P extends ProtocolDefinition, K extends ClientEventName<P>> =
  (payload: EventPayload<P, K>, context: HandlerContext<P>) => void | Promise<void>

/** Answers one request from the client. */
export type RequestHandler<P extends ProtocolDefinition, K extends RequestName<P>> =
  (payload: RequestPayload<P, K>, context: HandlerContext<P>) => ResponsePayload<P, K> | Promise<ResponsePayload<P, K>>

/**
 * Handlers declared once for a route and shared by every connection: no closure per connection
 * (the connection is `context.connection`). A handler a connection registers itself, in its
 * setup, takes the place of the route's for that connection.
 */
export interface RouteHandlers<P extends ProtocolDefinition> {
  /** Answers requests, by request name. */
  handle?: { [K in RequestName<P>]?: RequestHandler<P, K> }
  /** Handles client events, by event name. */
  on?: { [K in ClientEventName<P>]?: EventHandler<P, K> }
}

/** Options of `send`. */
export interface SendOptions {
  /** PRIORITY: never dropped under back-pressure (default false). */
  priority?: boolean
  /** ACK_REQUIRED (version 3): resolve once the client acknowledges, reject on timeout (default false). */
  ack?: boolean
  /** ACK timeout in ms (default: the route's ackTimeoutMs). */
  ackTimeoutMs?: number
}
