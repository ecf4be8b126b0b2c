/**
 * A protocol's events and requests by name, in Maps: names from the wire are never looked up on
 * a plain object (PROTOCOL.md section 4). Which side may send each event, and the catalog error
 * for one that the other side sends. No schema compiler here: the browser client uses it.
 */
import type { TSchema } from '@sinclair/typebox'
import { errors } from './errors.js'
import type { WireboxError } from './errors.js'
import type { ProtocolDefinition, RequestDefinition } from './protocol.js'

/** The event maps of a definition, in the order their events take in the layout (PROTOCOL.md 9.1). */
export const EVENT_MAPS = Object.freeze(['events', 'serverToClient', 'clientToServer'] as const)

/** The side that sends a message. */
export type Sender = 'server' | 'client'

/** A protocol's events and requests by name. */
export interface ProtocolTables {
  /** Every event, either direction, in layout order: `events`, `serverToClient`, `clientToServer`. */
  readonly events: ReadonlyMap<string, TSchema>
  /** The events the server may send (`serverToClient` and `events`). */
  readonly fromServer: ReadonlyMap<string, TSchema>
  /** The events a client may send (`clientToServer` and `events`). */
  readonly fromClient: ReadonlyMap<string, TSchema>
  readonly requests: ReadonlyMap<string, RequestDefinition>
}

const tables = new WeakMap<ProtocolDefinition, ProtocolTables>()

/** The protocol's tables, built once per protocol (own keys only). */
export function protocolTables (protocol: ProtocolDefinition | undefined): ProtocolTables {
  if (protocol === undefined) return EMPTY_TABLES
  let found = tables.get(protocol)
  if (found === undefined) {
    const both = Object.entries(protocol.events ?? {})
    const server = Object.entries(protocol.serverToClient ?? {})
    const client = Object.entries(protocol.clientToServer ?? {})
    found = {
      events: new Map([...both, ...server, ...client]),
      fromServer: new Map([...both, ...server]),
      fromClient: new Map([...both, ...client]),
      requests: new Map(Object.entries(protocol.requests ?? {}))
    }
    tables.set(protocol, found)
  }
  return found
}

/**
 * Why `sender` may not send the event `name`: WIREBOX_ERR_UNKNOWN_EVENT when the protocol has no
 * such event, WIREBOX_ERR_WRONG_DIRECTION when only the other side sends it; undefined when it
 * may. The error's details name the event (PROTOCOL.md section 7).
 */
export function eventProblem (tables: ProtocolTables, sender: Sender, name: string): WireboxError | undefined {
  if ((sender === 'server' ? tables.fromServer : tables.fromClient).has(name)) return undefined
  const err = tables.events.has(name)
    ? new errors.WIREBOX_ERR_WRONG_DIRECTION(name, sender === 'server' ? 'clients' : 'the server', sender === 'server' ? 'the server' : 'a client')
    : new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', name)
  err.details = { event_type: name }
  return err
}

/** The schema of an event `sender` may send; throws eventProblem's error when it may not. */
export function senderSchema (tables: ProtocolTables, sender: Sender, name: string): TSchema {
  const problem = eventProblem(tables, sender, name)
  if (problem !== undefined) throw problem
  return tables.events.get(name) as TSchema
}

/** Who sends an event: 'serverToClient', 'clientToServer' or 'both' (`events`); undefined when unknown. */
export function eventDirection (tables: ProtocolTables, name: string): 'serverToClient' | 'clientToServer' | 'both' | undefined {
  const server = tables.fromServer.has(name)
  const client = tables.fromClient.has(name)
  return server ? (client ? 'both' : 'serverToClient') : (client ? 'clientToServer' : undefined)
}

const EMPTY_TABLES: ProtocolTables = { events: new Map(), fromServer: new Map(), fromClient: new Map(), requests: new Map() }
