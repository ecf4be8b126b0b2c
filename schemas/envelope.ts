import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** The body of every message: a MessagePack map or a JSON object (PROTOCOL.md "Envelope"). */
export const Envelope = Type.Object({
  event_type: Type.String({ description: 'Names the event for EVENT, REQUEST and RESPONSE; informative on control messages' }),
  timestamp: Type.Integer({ minimum: 0, description: 'Send time, milliseconds since the Unix epoch' }),
  payload: Type.Optional(Type.Unknown({ description: 'Validated against the event schema' })),
  id: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff, description: 'Correlates requests, responses and ACKs' })),
  topic: Type.Optional(Type.String({ description: 'On topic messages: the topic' })),
  seq: Type.Optional(Type.Integer({ minimum: 0, description: 'On topic messages: per-topic sequence number' }))
}, { $id: 'wirebox.envelope', title: 'Envelope' })
/** The body of every message. */
export type Envelope = Static<typeof Envelope>
/** Compiled check for an envelope. */
export const EnvelopeCheck = TypeCompiler.Compile(Envelope)

/** The extra fields a JSON body carries: the numeric message type and, in text frames, flags. */
export const JsonEnvelope = Type.Composite([Envelope, Type.Object({
  type: Type.Integer({ minimum: 0, maximum: 255, description: 'Message type code' }),
  flags: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Flag bits (text frames only)' }))
})], { $id: 'wirebox.json-envelope', title: 'JsonEnvelope' })
/** A JSON message body. */
export type JsonEnvelope = Static<typeof JsonEnvelope>
