/**
 * Schemas of the wire core's options, checked once where options enter (lib/core/options.ts).
 * The TypeScript types, with each default, are the interfaces in lib/core/codec.ts and wire.ts.
 */
import { Type } from '@sinclair/typebox'

/** Schema of CodecOptions (lib/core/codec.ts). */
export const CodecOptionsSchema = Type.Object({
  maxDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  bigint: Type.Optional(Type.Boolean()),
  msgpackExtensions: Type.Optional(Type.Boolean())
}, { additionalProperties: false, $id: 'wirebox.codec-options', title: 'CodecOptions' })

/** Schema of WireSettings (lib/core/wire.ts). */
export const WireSettingsSchema = Type.Object({
  encoding: Type.Union([Type.Literal('messagepack'), Type.Literal('msgpack-compact'), Type.Literal('json')]),
  version: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
  compression: Type.Union([Type.Literal('gzip'), Type.Literal('deflate'), Type.Literal('none')]),
  compressionThreshold: Type.Optional(Type.Integer({ minimum: 0 })),
  compressionLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
  compressionMinSavings: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  chunkSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffffffff })),
  maxMessageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffffffff }))
}, { additionalProperties: false, $id: 'wirebox.wire-settings', title: 'WireSettings' })

/** Schema of the limits in DecoderOptions (lib/core/wire.ts). */
export const DecoderLimitsSchema = Type.Object({
  maxPartialMessages: Type.Optional(Type.Integer({ minimum: 1 })),
  maxPartialBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  chunkTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  allowEncrypted: Type.Optional(Type.Boolean()),
  maxFrameSize: Type.Optional(Type.Integer({ minimum: 1 }))
}, { $id: 'wirebox.decoder-limits', title: 'DecoderLimits' })
