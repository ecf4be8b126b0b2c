import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** Payload of PROTOCOL_NEGOTIATION (0xFE), the server's first message. */
export const Negotiation = Type.Object({
  encoding: Type.Union([Type.Literal('messagepack'), Type.Literal('json')]),
  version: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
  compression: Type.Union([Type.Literal('gzip'), Type.Literal('deflate'), Type.Literal('none')]),
  compression_threshold: Type.Integer({ minimum: 0 }),
  max_message_size: Type.Integer({ minimum: 1 }),
  heartbeat_interval_ms: Type.Integer({ minimum: 0 }),
  session_id: Type.String({ minLength: 1 }),
  fallback: Type.Boolean({ description: 'True when the requested encoding was not supported and JSON was chosen' }),
  requested_encoding: Type.Optional(Type.String({ description: 'The encoding the client asked for, when it fell back' })),
  chunk_size: Type.Optional(Type.Integer({ minimum: 1 }))
}, { $id: 'wirebox.negotiation', title: 'Negotiation' })
/** Payload of PROTOCOL_NEGOTIATION. */
export type Negotiation = Static<typeof Negotiation>
/** Compiled check for a negotiation payload. */
export const NegotiationCheck = TypeCompiler.Compile(Negotiation)

/** Payload of VERSION_CHECK (0xFD), the client's acknowledgement of the negotiation. */
export const VersionCheck = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  encoding: Type.Optional(Type.String())
}, { $id: 'wirebox.version-check', title: 'VersionCheck' })
/** Payload of VERSION_CHECK. */
export type VersionCheck = Static<typeof VersionCheck>
/** Compiled check for a VERSION_CHECK payload. */
export const VersionCheckCheck = TypeCompiler.Compile(VersionCheck)
