/**
 * Diagnostics channels (node:diagnostics_channel), as Fastify and undici publish theirs, so that
 * tracing (e.g. OpenTelemetry instrumentation) can build spans. Nothing is built or published
 * unless someone subscribes. Names and payloads are documented in the README ("Tracing").
 */
import diagnostics from 'node:diagnostics_channel'

/** A connection, as diagnostics name it. */
export interface ConnectionInfo {
  /** The session id (the negotiation's `session_id`). */
  session: string
  /** The route's path. */
  path: string
  encoding: string
  version: number
  compression: string
}

/** `wirebox:connection:open`: a connection was negotiated. */
export interface ConnectionOpenMessage extends ConnectionInfo {}
/** `wirebox:connection:close`: a connection closed, with its close code. */
export interface ConnectionCloseMessage { session: string, path: string, code: number }
/** `wirebox:message:in` and `wirebox:message:out`: one message read or written. */
export interface MessageTrace {
  session: string
  path: string
  /** The message type code (PROTOCOL.md section 2.3). */
  type: number
  /** The envelope's event_type, when known. */
  eventType: string | undefined
  /** Bytes of the frames on the wire (in: read since the previous message). */
  wireBytes: number
  /** Bytes of the body (after decompression for in, before compression for out). */
  bodyBytes: number
}
/** `wirebox:request:start`, `:end` and `:error`: one request from a client and its outcome. */
export interface RequestTrace {
  session: string
  path: string
  eventType: string
  /** The request's id. */
  id: number
  /** On `end` and `error`: milliseconds from start. */
  durationMs?: number
  /** On `error`: what failed (a catalog error, or the handler's). */
  error?: unknown
}

/** The channels, by name. */
export const channels = Object.freeze({
  connectionOpen: diagnostics.channel('wirebox:connection:open'),
  connectionClose: diagnostics.channel('wirebox:connection:close'),
  messageIn: diagnostics.channel('wirebox:message:in'),
  messageOut: diagnostics.channel('wirebox:message:out'),
  requestStart: diagnostics.channel('wirebox:request:start'),
  requestEnd: diagnostics.channel('wirebox:request:end'),
  requestError: diagnostics.channel('wirebox:request:error')
})
