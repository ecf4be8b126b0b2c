/**
 * The JSON codec: UTF-8 JSON, with Dates, bytes, typed arrays and BigInts carried in tagged
 * wrappers (tagged-values.ts) so they round-trip as they do in MessagePack. Text frames use
 * `encodeText` / `decodeText`; binary frames (compressed or chunked) use the byte forms.
 */
import { reviveJson, toJsonValue } from './tagged-values.js'
import type { WalkOptions } from './tagged-values.js'
import { resolveCodecOptions } from './codec.js'
import type { Codec, CodecOptions } from './codec.js'
import { errors, isWireboxError } from '../errors.js'

/** The JSON codec, with string forms for WebSocket text frames. */
export interface JsonCodec extends Codec {
  readonly name: 'json'
  /** Encodes one value to JSON text. */
  encodeText (value: unknown): string
  /** Decodes and checks JSON text. */
  decodeText (text: string): unknown
}

/** Creates a JSON codec. */
export function createJsonCodec (options?: CodecOptions): JsonCodec {
  const resolved = resolveCodecOptions(options)
  const walk: WalkOptions = { maxDepth: resolved.maxDepth, bigint: resolved.bigint }
  const encoder = new TextEncoder()
  const decoder = new TextDecoder('utf-8', { fatal: true })

  function encodeText (value: unknown): string {
    const safe = toJsonValue(value, walk)
    try {
      return JSON.stringify(safe)
    } catch (err) {
      throw new errors.WIREBOX_ERR_ENCODE_FAILED('JSON', (err as Error).message)
    }
  }

  function decodeText (text: string): unknown {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      throw new errors.WIREBOX_ERR_DECODE_FAILED('JSON', (err as Error).message)
    }
    try {
      return reviveJson(value, walk)
    } catch (err) {
      if (isWireboxError(err)) throw err
      throw new errors.WIREBOX_ERR_DECODE_FAILED('JSON', (err as Error).message)
    }
  }

  return {
    name: 'json',
    encodeText,
    decodeText,
    encode (value, room = 0) {
      const text = encodeText(value)
      if (room === 0) return encoder.encode(text)
      const out = new Uint8Array(room + text.length * 3)
      const { written } = encoder.encodeInto(text, out.subarray(room))
      return out.subarray(0, room + written)
    },
    decode (bytes) {
      let text: string
      try {
        text = decoder.decode(bytes)
      } catch {
        throw new errors.WIREBOX_ERR_DECODE_FAILED('JSON', 'body is not valid UTF-8')
      }
      return decodeText(text)
    }
  }
}
