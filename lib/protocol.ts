/**
 * Protocol definitions: the events (one-way, either direction) and requests (payload and
 * response) of a route, as TypeBox schemas. Handler and client types are inferred from them;
 * validators are compiled once per schema.
 */
import { Kind } from '@sinclair/typebox'
import type { Static, TSchema } from '@sinclair/typebox'
import { firstProblem } from './core/schema-check.js'
import { errors } from './errors.js'
import type { WireboxError } from './errors.js'

/** A request's schemas. */
export interface RequestDefinition {
  /** Schema of the REQUEST payload. */
  payload: TSchema
  /** Schema of the RESPONSE payload. */
  response: TSchema
}

/** What `defineProtocol` takes. */
export interface ProtocolDefinition {
  /** One-way events, either direction, by `event_type`. */
  events?: Record<string, TSchema>
  /** Requests, answered by a response, by `event_type`. */
  requests?: Record<string, RequestDefinition>
}

/** A protocol: the definition, as given. Pass it to a route and (as a type) to the client. */
export type Protocol<D extends ProtocolDefinition = ProtocolDefinition> = D & { readonly __wirebox: 'protocol' }

/** Names of a protocol's events. */
export type EventName<P extends ProtocolDefinition> = P['events'] extends Record<string, TSchema> ? keyof P['events'] & string : never
/** Payload type of an event. */
export type EventPayload<P extends ProtocolDefinition, K extends EventName<P>> = P['events'] extends Record<string, TSchema> ? Static<P['events'][K]> : never
/** Names of a protocol's requests. */
export type RequestName<P extends ProtocolDefinition> = P['requests'] extends Record<string, RequestDefinition> ? keyof P['requests'] & string : never
/** Payload type of a request. */
export type RequestPayload<P extends ProtocolDefinition, K extends RequestName<P>> = P['requests'] extends Record<string, RequestDefinition> ? Static<P['requests'][K]['payload']> : never
/** Response type of a request. */
export type ResponsePayload<P extends ProtocolDefinition, K extends RequestName<P>> = P['requests'] extends Record<string, RequestDefinition> ? Static<P['requests'][K]['response']> : never

/** Declares a protocol; checks that every value is a schema (WIREBOX_ERR_INVALID_OPTION). */
export function defineProtocol<const D extends ProtocolDefinition> (definition: D): Protocol<D> {
  const bad: string[] = []
  for (const [name, schema] of Object.entries(definition.events ?? {})) {
    if (!isSchema(schema)) bad.push(`events.${name}`)
  }
  for (const [name, request] of Object.entries(definition.requests ?? {})) {
    if (!isSchema(request?.payload)) bad.push(`requests.${name}.payload`)
    if (!isSchema(request?.response)) bad.push(`requests.${name}.response`)
    if (definition.events !== undefined && Object.hasOwn(definition.events, name)) bad.push(`requests.${name} (also an event)`)
  }
  if (bad.length > 0) throw new errors.WIREBOX_ERR_INVALID_OPTION('protocol', `not TypeBox schemas: ${bad.join(', ')}`)
  return Object.freeze({ ...definition, __wirebox: 'protocol' as const }) as Protocol<D>
}

/** A protocol's events and requests by name, in Maps: names from the wire never reach a plain object's prototype. */
interface ProtocolTables {
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

function isSchema (value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value
}

/**
 * Validates a payload; returns undefined when valid, else the catalog error (0x201 for a missing
 * required field, else 0x200) with `details: { path, event_type }`.
 */
export function validatePayload (schema: TSchema, value: unknown, eventType: string): WireboxError | undefined {
  const problem = firstProblem(schema, value)
  if (problem === undefined) return undefined
  const path = `/payload${problem.path}`
  const err = problem.missing
    ? new errors.WIREBOX_ERR_MISSING_FIELDS(path)
    : new errors.WIREBOX_ERR_INVALID_PAYLOAD(eventType, `${path}: ${problem.message}`)
  err.details = { path, event_type: eventType }
  return err
}
