/**
 * Publishing to topics, typed by a protocol: only events the server sends (`serverToClient` and
 * `events`) may be published, with their payload types (PROTOCOL.md section 1, "Events and
 * directions"). The untyped `publish` of the plugin refuses an event only clients send, too.
 */
import type { WireboxError } from '../errors.js'
import { eventProblem, protocolTables } from '../protocol-tables.js'
import type { ProtocolTables } from '../protocol-tables.js'
import type { EventPayload, ProtocolDefinition, ServerEventName } from '../protocol.js'
import type { PublishOptions, PublishResult } from '../topics/types.js'

/** Publishes one message to a topic, untyped (the plugin's `publish`). */
export type PublishFn = (topic: string, event: string, payload: unknown, options?: PublishOptions) => Promise<PublishResult>

/** Publishes a protocol's server events to topics: `app.wirebox.publisher(protocol)`, or what a route returns. */
export interface Publisher<P extends ProtocolDefinition> {
  /**
   * Publishes an event to a topic: validated once, encoded once per variant, written to every
   * subscriber (see `app.wirebox.publish`). Only events the server sends compile; at run time
   * another rejects with WIREBOX_ERR_WRONG_DIRECTION or WIREBOX_ERR_UNKNOWN_EVENT.
   */
  publish<K extends ServerEventName<P>> (topic: string, event: K, payload: EventPayload<P, K>, options?: PublishOptions): Promise<PublishResult>
}

/** A typed publisher of `protocol`'s server events over the plugin's `publish`. */
export function createPublisher<P extends ProtocolDefinition> (protocol: P, publish: PublishFn): Publisher<P> {
  const tables = protocolTables(protocol)
  return Object.freeze({
    async publish<K extends ServerEventName<P>> (topic: string, event: K, payload: EventPayload<P, K>, options?: PublishOptions): Promise<PublishResult> {
      const wrong = eventProblem(tables, 'server', event)
      if (wrong !== undefined) throw wrong
      return await publish(topic, event, payload, options)
    }
  })
}

/**
 * For the untyped `publish`: WIREBOX_ERR_WRONG_DIRECTION when the event is one that only clients
 * send in every route that knows it; otherwise undefined (the topics check names and payloads).
 */
export function publishProblem (routes: Iterable<ProtocolTables>, event: string): WireboxError | undefined {
  let problem: WireboxError | undefined
  for (const tables of routes) {
    if (tables.fromServer.has(event)) return undefined
    if (tables.events.has(event)) problem ??= eventProblem(tables, 'server', event)
  }
  return problem
}
