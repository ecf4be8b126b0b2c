import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** The msgpack-compact layout a server announces in PROTOCOL_NEGOTIATION (PROTOCOL.md section 9.1). */
export const LayoutSummary = Type.Object({
  hash: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'FNV-1a 64 of the layout: equal hashes, same compact wire form' }),
  events: Type.Array(Type.String(), { description: 'Event names; an event\'s id is its index' }),
  requests: Type.Array(Type.String(), { description: 'Request names; a request\'s id is its index' })
}, { $id: 'wirebox.layout-summary', title: 'LayoutSummary' })
/** The msgpack-compact layout in PROTOCOL_NEGOTIATION. */
export type LayoutSummary = Static<typeof LayoutSummary>

/** Payload of PROTOCOL_NEGOTIATION (0xFE), the server's first message. */
export const Negotiation = Type.Object({
  encoding: Type.Union([Type.Literal('messagepack'), Type.Literal('msgpack-compact'), Type.Literal('json')]),
  version: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
  compression: Type.Union([Type.Literal('gzip'), Type.Literal('deflate'), Type.Literal('none')]),
  compression_threshold: Type.Integer({ minimum: 0 }),
  max_message_size: Type.Integer({ minimum: 1 }),
  heartbeat_interval_ms: Type.Integer({ minimum: 0 }),
  session_id: Type.String({ minLength: 1 }),
  fallback: Type.Boolean({ description: 'True when the requested encoding was not supported (and JSON, or messagepack for msgpack-compact, was chosen)' }),
  requested_encoding: Type.Optional(Type.String({ description: 'The encoding the client asked for, when it fell back' })),
  chunk_size: Type.Optional(Type.Integer({ minimum: 1 })),
  layout: Type.Optional(Type.Composite([LayoutSummary], { description: 'With msgpack-compact: the ids of events and requests, and the layout hash' }))
}, { $id: 'wirebox.negotiation', title: 'Negotiation' })
/** Payload of PROTOCOL_NEGOTIATION. */
export type Negotiation = Static<typeof Negotiation>
/** Compiled check for a negotiation payload. */
export const NegotiationCheck = TypeCompiler.Compile(Negotiation)

/** Payload of VERSION_CHECK (0xFD), the client's acknowledgement of the negotiation. */
export const VersionCheck = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  encoding: Type.Optional(Type.String()),
  layout_hash: Type.Optional(Type.String({ description: 'With msgpack-compact: the hash of the client\'s layout' }))
}, { $id: 'wirebox.version-check', title: 'VersionCheck' })
/** Payload of VERSION_CHECK. */
export type VersionCheck = Static<typeof VersionCheck>
/** Compiled check for a VERSION_CHECK payload. */
export const VersionCheckCheck = TypeCompiler.Compile(VersionCheck)
