/**
 * A protocol's events and requests by name, in Maps: names from the wire are never looked up on
 * a plain object (PROTOCOL.md section 4). No schema compiler here: the browser client uses it.
 */
import type { TSchema } from '@sinclair/typebox'
import type { ProtocolDefinition, RequestDefinition } from './protocol.js'

/** A protocol's events and requests by name. */
export interface ProtocolTables {
  readonly events: ReadonlyMap<string, TSchema>
  readonly requests: ReadonlyMap<string, RequestDefinition>
}

const tables = new WeakMap<ProtocolDefinition, ProtocolTables>()

/** The protocol's tables, built once per protocol (own keys only). */
export function protocolTables (protocol: ProtocolDefinition | undefined): ProtocolTables {
  if (protocol === undefined) return EMPTY_TABLES
  let found = tables.get(protocol)
  if (found === undefined) {
    found = {
      events: new Map(Object.entries(protocol.events ?? {})),
      requests: new Map(Object.entries(protocol.requests ?? {}))
    }
    tables.set(protocol, found)
  }
  return found
}

const EMPTY_TABLES: ProtocolTables = { events: new Map(), requests: new Map() }
