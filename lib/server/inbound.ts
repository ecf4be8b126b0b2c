/**
 * Inbound events and requests of one connection (PROTOCOL.md section 1, "Requests" and
 * "Acknowledgements"): the handlers, validation against the route's protocol, the in-flight cap
 * and the timeout of requests, the RESPONSE or ERROR, the ACK of events sent with ACK_REQUIRED.
 * Handlers run in fair turns shared with every other connection.
 */
import type { TSchema } from '@sinclair/typebox'
import { Flag, MessageType } from '../core/constants.js'
import type { DecodedMessage } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { eventProblem, validatePayload } from '../protocol.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, RequestName, RequestPayload } from '../protocol.js'
import type { ProtocolTables } from '../protocol-tables.js'
import type { MessageFields } from '../session/session.js'
import { fairQueue } from './fair-queue.js'
import { deadlines } from '../session/deadlines.js'
import { channels } from './diagnostics.js'
import type { RequestTrace } from './diagnostics.js'
import type { ConnectionLog } from './bounded-log.js'
import type { EventHandler, HandlerContext, RequestHandler, RouteContext } from './types.js'

/** What inbound handling needs of its connection. */
export interface InboundOwner<P extends ProtocolDefinition> {
  /** How diagnostics name the connection. */
  readonly trace: { session: string, path: string }
  /** The context handlers receive. */
  context (envelope: Envelope, flags: number): HandlerContext<P>
  /** Sends a control message (RESPONSE, ACK). */
  reply (type: number, fields: MessageFields): void
  /** Answers with the catalog's ERROR (and closes when the error says so). */
  fail (err: unknown, id?: number, eventType?: string): void
  /** The connection's log. */
  readonly log: ConnectionLog
}

/** Where each handler of a route goes in a connection's handler array: client events, then requests. */
export interface HandlerSlots {
  readonly events: ReadonlyMap<string, number>
  readonly requests: ReadonlyMap<string, number>
  /** Events and requests in all. */
  readonly size: number
}

/** The handler slots of a protocol's tables (made once per route). */
export function handlerSlots (tables: ProtocolTables): HandlerSlots {
  const events = new Map([...tables.fromClient.keys()].map((name, i) => [name, i]))
  const requests = new Map([...tables.requests.keys()].map((name, i) => [name, events.size + i]))
  return Object.freeze({ events, requests, size: events.size + requests.size })
}

type AnyHandler<P extends ProtocolDefinition> = EventHandler<P, ClientEventName<P>> | RequestHandler<P, RequestName<P>>

/**
 * A route's own handlers (route options `handle` and `on`) by slot, checked once when the route
 * is declared: a name the protocol does not have (or, for `on`, an event clients may not send) is
 * refused with the error `handle` / `on` on a connection would throw; a handler must be a function
 * (or undefined: none). The objects must be plain (their own properties are the handlers).
 */
export function routeHandlers (tables: ProtocolTables, slots: HandlerSlots, handle: unknown, on: unknown): ReadonlyArray<unknown> {
  const handlers = new Array<unknown>(slots.size)
  for (const [option, given] of [['handle', handle], ['on', on]] as const) {
    if (given === undefined) continue
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', `/${option} must be an object of handlers by name`)
    }
    // Only own properties are read: handlers inherited (a class instance's methods, an object made
    // with Object.create) would be dropped without a word, so such an object is refused.
    const proto = Object.getPrototypeOf(given) as object | null
    if (proto !== null && Object.getPrototypeOf(proto) !== null) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', `/${option} must be a plain object of handlers by name (own properties; not a class instance)`)
    }
    for (const [name, handler] of Object.entries(given)) {
      // A name given undefined (`{ add: enabled ? fn : undefined }`, as the types allow) has no handler.
      if (handler !== undefined && typeof handler !== 'function') throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', `/${option}/${name} must be a function`)
      const slot = option === 'handle' ? slots.requests.get(name) : slots.events.get(name)
      if (slot === undefined) throw option === 'handle' ? new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name) : eventProblem(tables, 'client', name) as WireboxError
      if (handler !== undefined) handlers[slot] = handler
    }
  }
  return Object.freeze(handlers)
}

/** One connection's handlers and requests in flight. */
export class Inbound<P extends ProtocolDefinition> {
  readonly #route: RouteContext
  readonly #owner: InboundOwner<P>
  // By the route's slot: one small array, not a Map per connection (made with the first handler).
  #handlers: Array<AnyHandler<P> | undefined> | undefined
  #inFlight = 0

  constructor (route: RouteContext, owner: InboundOwner<P>) {
    this.#route = route
    this.#owner = owner
  }

  /** Registers the handler of a client event (one the protocol lets a client send). */
  on<K extends ClientEventName<P>> (event: K, handler: EventHandler<P, K>): void {
    const wrong = eventProblem(this.#route, 'client', event)
    if (wrong !== undefined) throw wrong
    this.#set(this.#route.handlerSlots.events.get(event) as number, handler as unknown as EventHandler<P, ClientEventName<P>>)
  }

  /** Registers the handler of a request. */
  handle<K extends RequestName<P>> (request: K, handler: RequestHandler<P, K>): void {
    const slot = this.#route.handlerSlots.requests.get(request)
    if (slot === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', request)
    this.#set(slot, handler as unknown as RequestHandler<P, RequestName<P>>)
  }

  /**
   * An EVENT from the client: validated, handled, acknowledged when it asks for it. An event the
   * protocol does not let a client send is refused (unknown, or the server's own: PROTOCOL.md
   * section 1, "Events and directions").
   */
  event (message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    const schema = this.#route.fromClient.get(name)
    const ackWanted = (message.flags & Flag.ACK_REQUIRED) !== 0
    if (ackWanted && envelope.id === undefined) return this.#owner.fail(missing('/id'))
    if (schema === undefined) return this.#owner.fail(eventProblem(this.#route, 'client', name), envelope.id)
    const invalid = validatePayload(schema, envelope.payload, name)
    if (invalid !== undefined) return this.#owner.fail(invalid, envelope.id)
    const handler = this.#handler(this.#route.handlerSlots.events.get(name) as number) as EventHandler<P, ClientEventName<P>> | undefined
    if (handler === undefined) {
      this.#owner.log.debug({ event_type: name }, 'wirebox: no handler for this event')
      return this.#handled(ackWanted, envelope.id, name)
    }
    // Called here, inside this message's fair turn.
    let result: unknown
    let thenable: boolean
    try {
      result = handler(envelope.payload as EventPayload<P, ClientEventName<P>>, this.#owner.context(envelope, message.flags))
      // Inside the try: a `then` getter may throw.
      thenable = isThenable(result)
    } catch (err) {
      return this.#owner.fail(err, ackWanted ? envelope.id : undefined, name)
    }
    // A synchronous handler: acknowledged in the same turn, nothing allocated for later.
    if (!thenable) return this.#handled(ackWanted, envelope.id, name)
    Promise.resolve(result).then(
      () => this.#handled(ackWanted, envelope.id, name),
      (err: unknown) => this.#owner.fail(err, ackWanted ? envelope.id : undefined, name))
  }

  /** An event was handled: its ACK, when it asked for one. */
  #handled (ackWanted: boolean, id: number | undefined, name: string): void {
    if (ackWanted) this.#owner.reply(MessageType.ACK, { id, event_type: name })
  }

  /** A REQUEST from the client: validated, capped, handled with a timeout, answered. */
  request (message: DecodedMessage, envelope: Envelope): void {
    const name = envelope.event_type
    const id = envelope.id
    const o = this.#route.options
    if (id === undefined) return this.#owner.fail(missing('/id'))
    const definition = this.#route.requests.get(name)
    if (definition === undefined) return this.#owner.fail(unknownRequest(name), id)
    const invalid = validatePayload(definition.payload, envelope.payload, name)
    if (invalid !== undefined) return this.#owner.fail(invalid, id)
    const handler = this.#handler(this.#route.handlerSlots.requests.get(name) as number) as RequestHandler<P, RequestName<P>> | undefined
    if (handler === undefined) return this.#owner.fail(new Error(`no handler registered for request "${name}"`), id, name)
    if (this.#inFlight >= o.maxInFlight) return this.#owner.fail(new errors.WIREBOX_ERR_TOO_MANY_REQUESTS(o.maxInFlight), id)
    this.#inFlight++
    const started = performance.now()
    const trace: RequestTrace | undefined = channels.requestStart.hasSubscribers || channels.requestEnd.hasSubscribers || channels.requestError.hasSubscribers
      ? { ...this.#owner.trace, eventType: name, id }
      : undefined
    if (trace !== undefined) channels.requestStart.publish(trace)
    // Called here, inside this message's fair turn.
    let result: unknown
    let thenable: boolean
    try {
      result = handler(envelope.payload as RequestPayload<P, RequestName<P>>, this.#owner.context(envelope, message.flags))
      // Inside the try: a `then` getter may throw.
      thenable = isThenable(result)
    } catch (err) {
      this.#inFlight--
      return this.#failed(err, id, name, started, trace)
    }
    if (!thenable) {
      // A synchronous handler: answered in the same turn, nothing allocated for later.
      this.#inFlight--
      return this.#answer(name, id, definition.response, result, started, trace)
    }
    // An asynchronous handler: answered in a turn of its own once it settles, or timed out.
    let settled = false
    const settle = (): boolean => {
      if (settled) return false
      settled = true
      this.#inFlight--
      deadlines.delete(settle)
      return true
    }
    // Timed out by the process's deadlines (one timer for every connection), keyed by `settle`.
    deadlines.add(settle, o.requestTimeoutMs, () => {
      // A handler failing after its timeout is already answered.
      if (settle()) this.#failed(new errors.WIREBOX_ERR_REQUEST_TIMEOUT(name, o.requestTimeoutMs), id, name, started, trace)
    })
    try {
      (result as PromiseLike<unknown>).then((response) => {
        if (settle()) fairQueue.run(() => this.#answer(name, id, definition.response, response, started, trace), true)
      }, (err: unknown) => {
        if (settle()) this.#failed(err, id, name, started, trace)
      })
    } catch (err) {
      // A thenable whose then() throws: answered now, not again at the timeout.
      if (settle()) this.#failed(err, id, name, started, trace)
    }
  }

  /** Answers a request with its handler's response (or what failed instead), traced. */
  #answer (name: string, id: number, schema: TSchema, response: unknown, started: number, trace: RequestTrace | undefined): void {
    const failure = this.#respond(name, id, schema, response, started)
    if (trace !== undefined) {
      const outcome = { ...trace, durationMs: performance.now() - started }
      if (failure === undefined) channels.requestEnd.publish(outcome)
      else channels.requestError.publish({ ...outcome, error: failure })
    }
  }

  /** Answers a request whose handler failed with `err`, traced. */
  #failed (err: unknown, id: number, name: string, started: number, trace: RequestTrace | undefined): void {
    if (trace !== undefined) channels.requestError.publish({ ...trace, durationMs: performance.now() - started, error: err })
    this.#owner.fail(err, id, name)
  }

  /** The connection's own handler of a slot, else the route's. */
  #handler (slot: number): unknown {
    return this.#handlers?.[slot] ?? this.#route.handlers[slot]
  }

  #set (slot: number, handler: AnyHandler<P>): void {
    (this.#handlers ??= new Array<AnyHandler<P> | undefined>(this.#route.handlerSlots.size))[slot] = handler
  }

  /** Validates and sends a response; returns what failed instead, if anything. */
  #respond (name: string, id: number, schema: TSchema, response: unknown, started: number): unknown {
    try {
      if (this.#route.validateOutgoing) {
        const wrong = validatePayload(schema, response, name)
        if (wrong !== undefined) {
          this.#owner.log.error({ event_type: name, err: wrong.message }, 'wirebox: the handler returned an invalid response')
          this.#owner.fail(new errors.WIREBOX_ERR_INTERNAL(name), id)
          return wrong
        }
      }
      this.#route.metrics.latency(performance.now() - started)
      this.#owner.reply(MessageType.RESPONSE, { event_type: name, id, payload: response })
      return undefined
    } catch (err) {
      this.#owner.fail(err, id, name)
      return err
    }
  }
}

/** Whether a handler returned a promise (or any thenable) rather than its value. */
function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** The catalog error of a request the protocol does not have, naming it in its details. */
function unknownRequest (name: string): WireboxError {
  const err = new errors.WIREBOX_ERR_UNKNOWN_EVENT('request', name)
  err.details = { event_type: name }
  return err
}

/** The catalog error of a missing envelope field, with its path. */
export function missing (path: string): WireboxError {
  const err = new errors.WIREBOX_ERR_MISSING_FIELDS(path)
  err.details = { path }
  return err
}
