/**
 * The codec interface: one small shape for every body encoding (as centrifuge-js does), chosen
 * per connection by the negotiated `encoding`.
 */
import { DEFAULTS } from './constants.js'
import { assertCodecOptions } from './options.js'

/** Body encodings a connection can negotiate (`msgpack-compact`: PROTOCOL.md section 9). */
export type Encoding = 'messagepack' | 'msgpack-compact' | 'json'

/** Turns a message body (an envelope) into bytes and back. */
export interface Codec {
  /** The negotiated name of the encoding. */
  readonly name: Encoding
  /**
   * Encodes one value. With `room` (at most 255), the returned bytes start with `room` bytes of
   * unspecified content before the body, for a frame header to be written in place (no copy).
   * Throws WIREBOX_ERR_ENCODE_FAILED for values the encoding cannot carry.
   */
  encode (value: unknown, room?: number): Uint8Array
  /** Decodes one value, checking it; throws catalog errors (0x200) for anything unsafe. */
  decode (bytes: Uint8Array): unknown
}

/** Options shared by the codecs. */
export interface CodecOptions {
  /** Deepest nesting of arrays and maps accepted, the envelope counting as 1 (default 64). */
  maxDepth?: number
  /**
   * Accept 64-bit integers outside ±(2^53-1) as BigInt (default false: rejected with 0x200).
   * Integers inside the safe range always decode as numbers.
   */
  bigint?: boolean
  /**
   * MessagePack only: accept and produce msgpackr's own extension types (Error, RegExp, Set,
   * Map, cyclic references) between peers that both run msgpackr. Default false: plain
   * MessagePack, and those extensions are rejected with 0x200. Never enable for untrusted peers.
   */
  msgpackExtensions?: boolean
}

/** Codec options with their defaults applied. */
export interface ResolvedCodecOptions {
  maxDepth: number
  bigint: boolean
  msgpackExtensions: boolean
}

/** Checks codec options (WIREBOX_ERR_INVALID_OPTION) and applies the defaults. */
export function resolveCodecOptions (options: CodecOptions = {}): ResolvedCodecOptions {
  assertCodecOptions(options)
  return {
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    bigint: options.bigint ?? false,
    msgpackExtensions: options.msgpackExtensions ?? false
  }
}
