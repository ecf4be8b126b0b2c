/**
 * What an encoder or decoder is configured with: the negotiated settings and limits, checked
 * once and resolved with their defaults, and the codec of the negotiated encoding.
 */
import { DEFAULTS } from './constants.js'
import type { CompressionAlgorithm, Version } from './constants.js'
import { createMessagePackCodec } from './msgpack-codec.js'
import { createJsonCodec } from './json-codec.js'
import type { JsonCodec } from './json-codec.js'
import type { Codec, CodecOptions, Encoding } from './codec.js'
import type { Platform } from './platform.js'
import { createCompactCodec } from './compact/codec.js'
import type { CompactCodec } from './compact/codec.js'
import type { CompactLayout } from './compact/layout.js'
import { assertWireSettings } from './options.js'
import { errors } from '../errors.js'

/** What a connection negotiated, and its limits. */
export interface WireSettings {
  /** Body encoding. */
  encoding: Encoding
  /** Protocol version. */
  version: Version
  /** Compression algorithm; `none`, and always for version 1, turns it off. */
  compression: CompressionAlgorithm | 'none'
  /** Bodies larger than this are compressed (default 1024 bytes). */
  compressionThreshold?: number
  /** zlib level (default 6). */
  compressionLevel?: number
  /**
   * A kind of message (its event name) whose compression saved less than this fraction of its
   * bytes is sent uncompressed for a while, then tried again (default 0.4; 0 compresses whenever
   * the result is smaller). A sender's choice only: receivers read the COMPRESSED flag.
   */
  compressionMinSavings?: number
  /** Largest chunk data after compression (default 256 KiB). */
  chunkSize?: number
  /** Largest message, checked on both sides of (de)compression and reassembly (default 64 MiB). */
  maxMessageSize?: number
}

/** Everything a wire encoder or decoder needs besides the settings. */
export interface WireContext {
  /** CRC32 and compression of the host. */
  platform: Platform
  /** Codec options (depth limit, BigInt, msgpackr extensions). */
  codec?: CodecOptions
  /**
   * The protocol's compiled layout, `compileLayout(protocol)`: required for `msgpack-compact`,
   * ignored by the other encodings (default: none).
   */
  layout?: CompactLayout
  /**
   * Bytes (0-32, default 0) reserved in front of each uncompressed, unchunked binary frame for the
   * transport's own header: a server writes the WebSocket header there and sends header and frame
   * in one write, with no copy (`EncodedMessage.room`).
   */
  transportRoom?: number
}

/** Settings with their defaults. */
export interface ResolvedSettings {
  encoding: Encoding
  version: Version
  compression: CompressionAlgorithm | 'none'
  threshold: number
  level: number
  minSavings: number
  chunkSize: number
  maxMessageSize: number
}

// A frozen settings or options object is checked once, however many decoders it configures
// (a route's, for each of its connections).
const checked = new WeakSet<object>()

/** Runs `check` on `value` unless a frozen `value` passed it before. */
export function checkOnce (value: object, check: () => void): void {
  if (checked.has(value)) return
  check()
  if (Object.isFrozen(value)) checked.add(value)
}

/** Checks `settings` and fills in the defaults. */
export function resolveSettings (settings: WireSettings): ResolvedSettings {
  checkOnce(settings, () => assertWireSettings(settings))
  if (settings.encoding === 'msgpack-compact' && settings.version !== 3) {
    throw new errors.WIREBOX_ERR_INVALID_OPTION('wire settings', 'msgpack-compact needs version 3 (its bodies take the timestamp from the v3 header)')
  }
  return {
    encoding: settings.encoding,
    version: settings.version,
    compression: settings.version === 1 ? 'none' : settings.compression,
    threshold: settings.compressionThreshold ?? DEFAULTS.compressionThreshold,
    level: settings.compressionLevel ?? DEFAULTS.compressionLevel,
    minSavings: settings.compressionMinSavings ?? DEFAULTS.compressionMinSavings,
    chunkSize: settings.chunkSize ?? DEFAULTS.chunkSize,
    maxMessageSize: settings.maxMessageSize ?? DEFAULTS.maxMessageSize
  }
}

/** The codec for an encoding; `msgpack-compact` needs the protocol's layout. */
export function createCodec (encoding: Encoding, options?: CodecOptions, layout?: CompactLayout): Codec | JsonCodec | CompactCodec {
  if (encoding === 'json') return createJsonCodec(options)
  if (encoding === 'messagepack') return createMessagePackCodec(options)
  if (layout === undefined) throw new errors.WIREBOX_ERR_INVALID_OPTION('layout', 'msgpack-compact needs the protocol\'s layout: pass { layout: compileLayout(protocol) }')
  return createCompactCodec(layout, options)
}

// Codecs keep no state between calls (each encode and decode runs to its end synchronously), so
// every encoder and decoder configured with the same options and layout shares one: a route's
// connections do not each hold a msgpackr instance, a guard and their buffers.
const NONE = {}
const sharedCodecs = new Map<Encoding, WeakMap<object, WeakMap<object, Codec | JsonCodec | CompactCodec>>>()

/** `createCodec`, made once per encoding, options object and layout. */
export function sharedCodec (encoding: Encoding, options?: CodecOptions, layout?: CompactLayout): Codec | JsonCodec | CompactCodec {
  let byOptions = sharedCodecs.get(encoding)
  if (byOptions === undefined) sharedCodecs.set(encoding, byOptions = new WeakMap())
  let byLayout = byOptions.get(options ?? NONE)
  if (byLayout === undefined) byOptions.set(options ?? NONE, byLayout = new WeakMap())
  const layoutKey = encoding === 'msgpack-compact' ? layout ?? NONE : NONE
  let codec = byLayout.get(layoutKey)
  if (codec === undefined) byLayout.set(layoutKey, codec = createCodec(encoding, options, layout))
  return codec
}

/** The compact codec, when the codec is one. */
export function compactOf (codec: Codec): CompactCodec | undefined {
  return codec.name === 'msgpack-compact' ? codec as CompactCodec : undefined
}
