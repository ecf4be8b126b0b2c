import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** Payload of ERROR (0xFF); the envelope's `id` is set when it answers a request. */
export const ErrorPayload = Type.Object({
  code: Type.Integer({ minimum: 0x100, maximum: 0xffff, description: 'Protocol error code (PROTOCOL.md "Error codes")' }),
  error: Type.Optional(Type.String({ description: 'The error catalog\'s name of the error, e.g. WIREBOX_ERR_INVALID_PAYLOAD (PROTOCOL.md section 7)' })),
  message: Type.String(),
  details: Type.Optional(Type.Unknown({ description: 'Client-safe context: event_type, path and problems of a payload (PROTOCOL.md section 7)' }))
}, { $id: 'wirebox.error', title: 'ErrorPayload' })
/** Payload of ERROR. */
export type ErrorPayload = Static<typeof ErrorPayload>
/** Compiled check for an ERROR payload. */
export const ErrorPayloadCheck = TypeCompiler.Compile(ErrorPayload)
