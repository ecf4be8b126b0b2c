/**
 * Protocol definitions: the events (one-way, each with the direction it travels) and requests
 * (payload and response) of a route, as TypeBox schemas. Handler and client types are inferred
 * from them; validators are compiled once per schema.
 */
import { Kind } from '@sinclair/typebox'
import type { Static, TSchema } from '@sinclair/typebox'
import { firstProblem, schemaProblems } from './core/schema-check.js'
import type { SchemaProblem } from './core/schema-check.js'
import { errors } from './errors.js'

import { EVENT_MAPS } from './protocol-tables.js'

export { protocolTables, eventProblem, senderSchema, EVENT_MAPS } from './protocol-tables.js'
export type { ProtocolTables, Sender } from './protocol-tables.js'
import type { WireboxError } from './errors.js'

/** A request's schemas. */
export interface RequestDefinition {
  /** Schema of the REQUEST payload. */
  payload: TSchema
  /** Schema of the RESPONSE payload. */
  response: TSchema
}

/**
 * What `defineProtocol` takes. Every event is in one of the three event maps, which say who
 * sends it (as Socket.IO's `ServerToClientEvents` and `ClientToServerEvents` do).
 */
export interface ProtocolDefinition {
  /** Events only the server sends (to one client or a topic) and clients listen to, by `event_type`. */
  serverToClient?: Record<string, TSchema>
  /** Events only clients send and the server handles, by `event_type`. */
  clientToServer?: Record<string, TSchema>
  /** Events either side may send, by `event_type`. */
  events?: Record<string, TSchema>
  /** Requests, answered by a response, by `event_type` (always from a client). */
  requests?: Record<string, RequestDefinition>
}

/** A protocol: the definition, as given. Pass it to a route and (as a type) to the client. */
export type Protocol<D extends ProtocolDefinition = ProtocolDefinition> = D & { readonly __wirebox: 'protocol' }

type Names<M> = keyof NonNullable<M> & string
/** Every event schema of a protocol, whatever its direction. */
type EventSchemas<P extends ProtocolDefinition> = NonNullable<P['events']> & NonNullable<P['serverToClient']> & NonNullable<P['clientToServer']>

/** Names of the events the server may send (`serverToClient` and `events`): what a client listens to. */
export type ServerEventName<P extends ProtocolDefinition> = Names<P['serverToClient']> | Names<P['events']>
/** Names of the events a client may send (`clientToServer` and `events`): what the server handles. */
export type ClientEventName<P extends ProtocolDefinition> = Names<P['clientToServer']> | Names<P['events']>
/** Names of a protocol's events, either direction. */
export type EventName<P extends ProtocolDefinition> = ServerEventName<P> | ClientEventName<P>
/** Payload type of an event. */
export type EventPayload<P extends ProtocolDefinition, K extends EventName<P>> =
  K extends keyof EventSchemas<P> ? EventSchemas<P>[K] extends TSchema ? Static<EventSchemas<P>[K]> : never : never
/** Names of a protocol's requests. */
export type RequestName<P extends ProtocolDefinition> = P['requests'] extends Record<string, RequestDefinition> ? keyof P['requests'] & string : never
/** Payload type of a request. */
export type RequestPayload<P extends ProtocolDefinition, K extends RequestName<P>> = P['requests'] extends Record<string, RequestDefinition> ? Static<P['requests'][K]['payload']> : never
/** Response type of a request. */
export type ResponsePayload<P extends ProtocolDefinition, K extends RequestName<P>> = P['requests'] extends Record<string, RequestDefinition> ? Static<P['requests'][K]['response']> : never

/**
 * Declares a protocol; checks that every value is a schema and that no name is declared twice
 * (in two event maps, or as an event and a request): WIREBOX_ERR_INVALID_OPTION.
 */
export function defineProtocol<const D extends ProtocolDefinition> (definition: D): Protocol<D> {
  const bad: string[] = []
  const seen = new Map<string, string>()
  for (const map of EVENT_MAPS) {
    for (const [name, schema] of Object.entries(definition[map] ?? {})) {
      if (!isSchema(schema)) bad.push(`${map}.${name}`)
      const earlier = seen.get(name)
      if (earlier !== undefined) bad.push(`${map}.${name} (also in ${earlier})`)
      seen.set(name, map)
    }
  }
  for (const [name, request] of Object.entries(definition.requests ?? {})) {
    if (!isSchema(request?.payload)) bad.push(`requests.${name}.payload`)
    if (!isSchema(request?.response)) bad.push(`requests.${name}.response`)
    const event = seen.get(name)
    if (event !== undefined) bad.push(`requests.${name} (also an event, in ${event})`)
  }
  if (bad.length > 0) throw new errors.WIREBOX_ERR_INVALID_OPTION('protocol', `not TypeBox schemas, or declared twice: ${bad.join(', ')}`)
  return Object.freeze({ ...definition, __wirebox: 'protocol' as const }) as Protocol<D>
}

function isSchema (value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value
}

/** At most this many problems of one payload are reported (the first is the error's message). */
export const MAX_PROBLEMS = 16

/**
 * Validates a payload; returns undefined when valid, else the catalog error (0x201 for a missing
 * required field, else 0x200) with `details: { path, event_type, problems }`: `path` is the
 * first problem's, `problems` every problem (up to MAX_PROBLEMS), each `{ path, message }` and,
 * for a literal, enum or union of literals, `allowed` (PROTOCOL.md section 7).
 */
export function validatePayload (schema: TSchema, value: unknown, eventType: string): WireboxError | undefined {
  if (firstProblem(schema, value) === undefined) return undefined
  const problems = schemaProblems(schema, value, MAX_PROBLEMS).map((p) => ({ ...p, path: `/payload${p.path}` }))
  const first = problems[0] as SchemaProblem
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''
  const err = first.missing
    ? new errors.WIREBOX_ERR_MISSING_FIELDS(`${first.path}${more}`)
    : new errors.WIREBOX_ERR_INVALID_PAYLOAD(eventType, `${first.path}: ${first.message}${more}`)
  err.details = {
    path: first.path,
    event_type: eventType,
    problems: problems.map(({ path, message, allowed }) => (allowed === undefined ? { path, message } : { path, message, allowed }))
  }
  return err
}
