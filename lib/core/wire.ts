/**
 * Messages to WebSocket frames and back, for one negotiated setting:
 *
 *   encode: envelope -> codec -> compress (above threshold, if smaller) -> chunk (above chunk size) -> frame(s)
 *   decode: frame -> header and checksum -> reassemble chunks -> decompress -> codec -> envelope check
 *
 * JSON messages that are neither compressed nor chunked travel as text frames holding the
 * envelope with its numeric `type` (and `flags` when set); everything else is a binary frame.
 * An encoder is stateless but for its chunk message ids, so one encoder can serve every socket
 * of a topic variant. A decoder holds one connection's partial chunked messages.
 */
import { DEFAULTS, Flag, HEADER_SIZE, mayBeEmpty, messageTypeName } from './constants.js'
import type { CompressionAlgorithm, Version } from './constants.js'
import { checkFlags, decodeFrame, encodeFrame, nowMicros, writeHeader } from './frame.js'
import { ChunkReassembler, splitIntoChunks } from './chunking.js'
import type { PartialBudget } from './chunking.js'
import { compressIfSmaller, decompressBody } from './compression.js'
import { createMessagePackCodec } from './msgpack-codec.js'
import { createJsonCodec } from './json-codec.js'
import type { JsonCodec } from './json-codec.js'
import type { Codec, CodecOptions, Encoding } from './codec.js'
import type { Platform } from './platform.js'
import { assertEnvelope } from './envelope.js'
import { createCompactCodec, isCompactType } from './compact/codec.js'
import type { CompactCodec } from './compact/codec.js'
import type { CompactLayout } from './compact/layout.js'
import { utf8Length } from './bytes.js'
import { assertOptions } from './options.js'
import { DecoderLimitsSchema, WireSettingsSchema } from '../../schemas/wire-options.js'
import type { Envelope } from '../../schemas/envelope.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'

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
}

/** One message to send. */
export interface OutgoingMessage {
  /** Message type code. */
  type: number
  /** PRIORITY, BROADCAST, ACK_REQUIRED (COMPRESSED and CHUNKED are the encoder's to set). */
  flags?: number
  /** The body. */
  envelope: Envelope
  /** v3 header timestamp in microseconds (default: now). */
  timestamp?: number
}

/** A frame to send: bytes go in a binary WebSocket message, a string in a text message. */
export type WireFrame = Uint8Array | string

/** One encoded message: its frames, and sizes for metrics. */
export interface EncodedMessage {
  frames: WireFrame[]
  /** Body bytes before compression. */
  bodySize: number
  /** Bytes of all frames (UTF-8 bytes for text). */
  wireSize: number
}

/** One received message. */
export interface DecodedMessage {
  version: Version
  type: number
  /** Flags of the message as sent (COMPRESSED and CHUNKED included). */
  flags: number
  /** v3 header timestamp in microseconds; undefined for v1, v2 and text frames. */
  timestamp: number | undefined
  /** The body; undefined only for an empty PING, PONG or HEARTBEAT. */
  envelope: Envelope | undefined
  /** Bytes of the body after decompression and reassembly (characters, for a text frame). */
  bodySize: number
}

interface Resolved {
  encoding: Encoding
  version: Version
  compression: CompressionAlgorithm | 'none'
  threshold: number
  level: number
  chunkSize: number
  maxMessageSize: number
}

// A frozen settings or options object is checked once, however many decoders it configures
// (a route's, for each of its connections).
const checked = new WeakSet<object>()

function checkOnce (value: object, check: () => void): void {
  if (checked.has(value)) return
  check()
  if (Object.isFrozen(value)) checked.add(value)
}

function resolve (settings: WireSettings): Resolved {
  checkOnce(settings, () => assertOptions(WireSettingsSchema, settings, 'wire settings'))
  if (settings.encoding === 'msgpack-compact' && settings.version !== 3) {
    throw new errors.WIREBOX_ERR_INVALID_OPTION('wire settings', 'msgpack-compact needs version 3 (its bodies take the timestamp from the v3 header)')
  }
  return {
    encoding: settings.encoding,
    version: settings.version,
    compression: settings.version === 1 ? 'none' : settings.compression,
    threshold: settings.compressionThreshold ?? DEFAULTS.compressionThreshold,
    level: settings.compressionLevel ?? DEFAULTS.compressionLevel,
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

/** The compact codec, when the codec is one. */
function compactOf (codec: Codec): CompactCodec | undefined {
  return codec.name === 'msgpack-compact' ? codec as CompactCodec : undefined
}

const ENCODER_FLAGS = Flag.COMPRESSED | Flag.CHUNKED

/** Encodes messages for one negotiated setting. */
export class MessageEncoder {
  readonly settings: Readonly<Resolved>
  readonly #platform: Platform
  readonly #codec: Codec | JsonCodec
  readonly #compact: CompactCodec | undefined
  #nextMessageId = 1

  constructor (settings: WireSettings, context: WireContext) {
    this.settings = Object.freeze(resolve(settings))
    this.#platform = context.platform
    this.#codec = createCodec(settings.encoding, context.codec, context.layout)
    this.#compact = compactOf(this.#codec)
  }

  /**
   * Encodes one message into the frames to send, in order (more than one when chunked). The body
   * is encoded once; an uncompressed MessagePack body is written behind room for its header, so
   * the frame needs no copy.
   */
  async encode (message: OutgoingMessage): Promise<WireFrame[]> {
    return (await this.encodeMessage(message)).frames
  }

  /** Like `encode`, with the sizes (for metrics). */
  async encodeMessage (message: OutgoingMessage): Promise<EncodedMessage> {
    const s = this.settings
    const flags = message.flags ?? 0
    if ((flags & ENCODER_FLAGS) !== 0) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('flags', 'COMPRESSED and CHUNKED are set by the encoder')
    }
    checkFlags(flags, s.version)
    const room = HEADER_SIZE[s.version]
    let text: string | undefined
    let framed: Uint8Array | undefined
    let body: Uint8Array
    let timestamp = message.timestamp
    if (this.#compact !== undefined && isCompactType(message.type)) {
      // The compact body has no timestamp: the header carries the envelope's (PROTOCOL.md 9.2).
      const ms = message.envelope.timestamp
      if (timestamp === undefined || Math.floor(timestamp / 1000) !== ms) timestamp = ms * 1000
      framed = this.#compact.encodeEnvelope(message.type, message.envelope, room)
      body = framed.subarray(room)
    } else if (s.encoding === 'json') {
      // Text frames carry the flags in the body; binary frames ignore a body `flags` field.
      text = (this.#codec as JsonCodec).encodeText(flags === 0
        ? { type: message.type, ...message.envelope }
        : { type: message.type, flags, ...message.envelope })
      // A UTF-16 code unit is at most 3 UTF-8 bytes: a short text is neither compressed nor chunked.
      if (text.length * 3 <= this.#plainTextLimit) return textMessage(text)
      body = utf8.encode(text)
    } else {
      framed = this.#codec.encode(withIntegerFields(message.envelope), room)
      body = framed.subarray(room)
    }
    if (body.length > s.maxMessageSize) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(body.length, s.maxMessageSize)

    const compressed = await compressIfSmaller(body, { algorithm: s.compression, threshold: s.threshold, level: s.level }, this.#platform)
    timestamp ??= s.version === 3 ? nowMicros() : undefined
    if (compressed === undefined && body.length <= s.chunkSize) {
      if (text !== undefined) return textMessage(text, body.length)
      const frame = framed as Uint8Array
      writeHeader(frame, s.version, message.type, flags, body.length, this.#platform.crc32(body), timestamp)
      return { frames: [frame], bodySize: body.length, wireSize: frame.length }
    }
    const payload = compressed ?? body
    const sentFlags = compressed === undefined ? flags : flags | Flag.COMPRESSED
    if (payload.length <= s.chunkSize) {
      const frame = encodeFrame({ version: s.version, type: message.type, flags: sentFlags, timestamp, payload }, this.#platform.crc32)
      return { frames: [frame], bodySize: body.length, wireSize: frame.length }
    }
    const id = this.#nextMessageId
    this.#nextMessageId = (id + 1) >>> 0 || 1
    const frames = splitIntoChunks(payload, id, s.chunkSize).map((chunk) => encodeFrame({
      version: s.version, type: message.type, flags: sentFlags | Flag.CHUNKED, timestamp, payload: chunk
    }, this.#platform.crc32))
    return { frames, bodySize: body.length, wireSize: frames.reduce((sum, f) => sum + f.length, 0) }
  }

  /** JSON texts up to this many UTF-16 units surely need no compression and no chunking. */
  get #plainTextLimit (): number {
    const s = this.settings
    return Math.min(s.compression === 'none' ? Infinity : s.threshold, s.chunkSize, s.maxMessageSize)
  }
}

const utf8 = new TextEncoder()

/** A text frame's sizes: UTF-8 bytes (measured only when the body was encoded anyway). */
function textMessage (text: string, bytes?: number): EncodedMessage {
  const size = bytes ?? utf8Length(text)
  return { frames: [text], bodySize: size, wireSize: size }
}

/** Options of a decoder beyond the wire context. */
export interface DecoderOptions extends WireContext {
  /** Incomplete chunked messages held at once (default 16). */
  maxPartialMessages?: number
  /** Bytes held by incomplete chunked messages (default: maxMessageSize). */
  maxPartialBytes?: number
  /** Incomplete chunked messages are dropped after this many ms (default 60000). */
  chunkTimeoutMs?: number
  /** Accept the ENCRYPTED flag (only with an encryption hook; default false). */
  allowEncrypted?: boolean
  /** Largest frame payload (or text frame) accepted, e.g. the chunk size plus the chunk header (default: maxMessageSize). */
  maxFrameSize?: number
  /** Bytes of incomplete chunked messages all connections may hold together (default: no shared limit). */
  partialBudget?: PartialBudget
}

/** Decodes one connection's incoming frames. */
export class MessageDecoder {
  readonly settings: Readonly<Resolved>
  readonly #platform: Platform
  readonly #codec: Codec | JsonCodec
  readonly #compact: CompactCodec | undefined
  readonly #chunks: ChunkReassembler
  readonly #allowEncrypted: boolean
  readonly #maxFrameSize: number

  constructor (settings: WireSettings, options: DecoderOptions) {
    this.settings = Object.freeze(resolve(settings))
    const { platform: _platform, codec: _codec, layout, partialBudget, ...limits } = options
    checkOnce(options, () => assertOptions(DecoderLimitsSchema, limits, 'decoder options'))
    this.#platform = options.platform
    this.#codec = createCodec(settings.encoding, options.codec, layout)
    this.#compact = compactOf(this.#codec)
    this.#allowEncrypted = options.allowEncrypted ?? false
    this.#maxFrameSize = Math.min(options.maxFrameSize ?? Infinity, this.settings.maxMessageSize)
    this.#chunks = new ChunkReassembler({
      budget: partialBudget,
      maxMessageSize: this.settings.maxMessageSize,
      maxPartialMessages: options.maxPartialMessages,
      maxPartialBytes: options.maxPartialBytes,
      timeoutMs: options.chunkTimeoutMs
    })
  }

  /**
   * Decodes one WebSocket message (bytes for binary, a string for text). Resolves to the message,
   * or to undefined when it was a chunk of a message not yet complete. Rejects with catalog errors.
   */
  async decode (data: Uint8Array | string): Promise<DecodedMessage | undefined> {
    if (typeof data === 'string') return this.#decodeText(data)
    const s = this.settings
    const frame = decodeFrame(data, { maxMessageSize: this.#maxFrameSize, allowEncrypted: this.#allowEncrypted }, this.#platform.crc32)
    if (frame.version !== s.version) throw new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(frame.version, s.version)
    let body: Uint8Array | undefined = frame.payload
    if ((frame.flags & Flag.CHUNKED) !== 0) {
      body = this.#chunks.add(frame.type, frame.flags, frame.payload)
      if (body === undefined) return undefined
    }
    if ((frame.flags & Flag.COMPRESSED) !== 0) {
      body = await decompressBody(body, s.compression, s.maxMessageSize, this.#platform)
    }
    if (body.length === 0) {
      if (!mayBeEmpty(frame.type)) throw new errors.WIREBOX_ERR_EMPTY_PAYLOAD(frame.type.toString(16))
      return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope: undefined, bodySize: 0 }
    }
    if (this.#compact !== undefined && isCompactType(frame.type)) {
      const envelope = this.#compact.decodeEnvelope(frame.type, body, Math.floor((frame.timestamp as number) / 1000))
      assertEnvelope(envelope)
      return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope, bodySize: body.length }
    }
    const value = this.#codec.decode(body)
    let envelope: unknown = value
    if (s.encoding === 'json') {
      // In binary frames the header carries the flags; a `flags` field in the body is ignored.
      const { type, flags: _flags, ...rest } = asObject(value)
      if (type !== frame.type) throw invalid(`type ${String(type)} differs from the header's ${frame.type}`, '/type')
      envelope = rest
    }
    assertEnvelope(envelope)
    return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope, bodySize: body.length }
  }

  /** Drops expired incomplete chunked messages; returns an error for each, to report to the peer. */
  sweep (now?: number): WireboxError[] {
    return this.#chunks.sweep(now)
  }

  /** Incomplete chunked messages held now. */
  get pendingChunkedMessages (): number {
    return this.#chunks.pendingMessages
  }

  /** Forgets all partial state (call when the connection closes). */
  close (): void {
    this.#chunks.clear()
  }

  #decodeText (text: string): DecodedMessage {
    const s = this.settings
    // A UTF-16 code unit is at least one UTF-8 byte: a longer string is surely too large.
    if (text.length > this.#maxFrameSize) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(text.length, this.#maxFrameSize)
    if (s.encoding !== 'json') throw invalid('a text frame on a MessagePack connection', '/')
    const { type, flags = 0, ...envelope } = asObject((this.#codec as JsonCodec).decodeText(text))
    if (typeof type !== 'number' || messageTypeName(type) === undefined) {
      if (type === undefined) throw new errors.WIREBOX_ERR_MISSING_FIELDS('/type')
      throw new errors.WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE(String(type))
    }
    if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 255) throw invalid('flags must be an integer 0-255', '/flags')
    if ((flags & (ENCODER_FLAGS | Flag.ENCRYPTED)) !== 0) throw invalid('COMPRESSED, CHUNKED and ENCRYPTED need a binary frame', '/flags')
    checkFlags(flags, s.version)
    assertEnvelope(envelope)
    return { version: s.version, type, flags, timestamp: undefined, envelope, bodySize: text.length }
  }
}

/**
 * msgpackr writes every number beyond 32 bits as a float64. The envelope's integer fields must
 * be MessagePack integers for typed decoders in other languages: pass them as BigInt, which
 * msgpackr writes as uint 64 (and which decodes back to a number).
 */
function withIntegerFields (envelope: Envelope): Envelope {
  const { timestamp, seq } = envelope
  if (timestamp <= 0xffffffff && (seq === undefined || seq <= 0xffffffff)) return envelope
  const copy: Record<string, unknown> = { ...envelope }
  if (timestamp > 0xffffffff && Number.isSafeInteger(timestamp)) copy.timestamp = BigInt(timestamp)
  if (seq !== undefined && seq > 0xffffffff && Number.isSafeInteger(seq)) copy.seq = BigInt(seq)
  return copy as Envelope
}

function asObject (value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new errors.WIREBOX_ERR_INVALID_ENVELOPE('the body is not a map/object', '/')
  }
  return value as Record<string, unknown>
}

function invalid (reason: string, path: string): WireboxError {
  const err = new errors.WIREBOX_ERR_INVALID_ENVELOPE(reason, path)
  err.details = { path }
  return err
}
