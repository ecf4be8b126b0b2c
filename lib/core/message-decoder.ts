/**
 * One connection's incoming WebSocket messages back to messages (PROTOCOL.md sections 2-4):
 *
 *   frame -> header and checksum -> reassemble chunks -> decompress -> codec -> envelope check
 *
 * A decoder holds the connection's partial chunked messages. Decoding is synchronous unless a
 * large body has to inflate off the event loop.
 */
import { Flag, mayBeEmpty, messageTypeName } from './constants.js'
import type { Version } from './constants.js'
import { checkFlags, decodeFrame } from './frame.js'
import type { Frame, FrameLimits } from './frame.js'
import { ChunkReassembler } from './chunking.js'
import type { PartialBudget } from './chunking.js'
import { decompressBody } from './compression.js'
import type { JsonCodec } from './json-codec.js'
import type { Codec } from './codec.js'
import type { Platform } from './platform.js'
import { assertEnvelope } from './envelope.js'
import { isCompactType } from './compact/codec.js'
import type { CompactCodec } from './compact/codec.js'
import { assertDecoderLimits } from './options.js'
import type { Envelope } from '../../schemas/envelope.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import { checkOnce, compactOf, sharedCodec, resolveSettings } from './wire-settings.js'
import type { ResolvedSettings, WireContext, WireSettings } from './wire-settings.js'

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

// Flags only the encoder sets, and only in binary frames.
const ENCODER_FLAGS = Flag.COMPRESSED | Flag.CHUNKED

/** What every decoder of one settings object and one options object shares. */
interface Variant {
  readonly settings: Readonly<ResolvedSettings>
  readonly platform: Platform
  readonly codec: Codec | JsonCodec
  readonly compact: CompactCodec | undefined
  readonly options: DecoderOptions
  /** What decodeFrame checks: one object, not one per frame. */
  readonly frameLimits: Readonly<FrameLimits>
  readonly maxFrameSize: number
}

// Frozen options -> frozen settings -> their variant: a route's connections share one (a
// decoder per connection then holds two fields).
const variants = new WeakMap<DecoderOptions, WeakMap<WireSettings, Variant>>()

/** The shared part of a decoder of `settings` and `options`, made once when both are frozen. */
function variantOf (settings: WireSettings, options: DecoderOptions): Variant {
  const shared = Object.isFrozen(settings) && Object.isFrozen(options)
  let known = shared ? variants.get(options)?.get(settings) : undefined
  if (known !== undefined) return known
  const resolved = Object.freeze(resolveSettings(settings))
  const { platform: _platform, codec: _codec, layout, partialBudget: _budget, ...limits } = options
  checkOnce(options, () => assertDecoderLimits(limits))
  const codec = sharedCodec(settings.encoding, options.codec, layout)
  const maxFrameSize = Math.min(options.maxFrameSize ?? Infinity, resolved.maxMessageSize)
  known = Object.freeze({
    settings: resolved,
    platform: options.platform,
    codec,
    compact: compactOf(codec),
    options,
    frameLimits: Object.freeze({ maxMessageSize: maxFrameSize, allowEncrypted: options.allowEncrypted ?? false }),
    maxFrameSize
  })
  if (shared) {
    let bySettings = variants.get(options)
    if (bySettings === undefined) variants.set(options, bySettings = new WeakMap())
    bySettings.set(settings, known)
  }
  return known
}

/** Decodes one connection's incoming frames. */
export class MessageDecoder {
  readonly #variant: Variant
  // Created with the first chunked message: most connections never see one.
  #chunks: ChunkReassembler | undefined

  constructor (settings: WireSettings, options: DecoderOptions) {
    this.#variant = variantOf(settings, options)
  }

  /** The settings, with the defaults filled in. */
  get settings (): Readonly<ResolvedSettings> {
    return this.#variant.settings
  }

  /**
   * Decodes one WebSocket message (bytes for binary, a string for text). Resolves to the message,
   * or to undefined when it was a chunk of a message not yet complete. Rejects with catalog errors.
   */
  async decode (data: Uint8Array | string): Promise<DecodedMessage | undefined> {
    return await this.decodeNow(data)
  }

  /**
   * `decode`, synchronously where it can be: the result itself, or a promise when a body
   * inflates in the thread pool. Throws (or rejects) with catalog errors.
   */
  decodeNow (data: Uint8Array | string): DecodedMessage | undefined | Promise<DecodedMessage | undefined> {
    if (typeof data === 'string') return this.#decodeText(data)
    const v = this.#variant
    const s = v.settings
    const frame = decodeFrame(data, v.frameLimits, v.platform.crc32)
    if (frame.version !== s.version) throw new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(frame.version, s.version)
    let body: Uint8Array | undefined = frame.payload
    if ((frame.flags & Flag.CHUNKED) !== 0) {
      body = this.#reassembler().add(frame.type, frame.flags, frame.payload)
      if (body === undefined) return undefined
    }
    if ((frame.flags & Flag.COMPRESSED) === 0) return this.#decodeBody(frame, body)
    const inflated = decompressBody(body, s.compression, s.maxMessageSize, v.platform)
    return inflated instanceof Uint8Array ? this.#decodeBody(frame, inflated) : inflated.then((b) => this.#decodeBody(frame, b))
  }

  /** Drops expired incomplete chunked messages; returns an error for each, to report to the peer. */
  sweep (now?: number): WireboxError[] {
    return this.#chunks?.sweep(now) ?? []
  }

  /** Incomplete chunked messages held now. */
  get pendingChunkedMessages (): number {
    return this.#chunks?.pendingMessages ?? 0
  }

  /** Forgets all partial state (call when the connection closes). */
  close (): void {
    this.#chunks?.clear()
  }

  #reassembler (): ChunkReassembler {
    const { options, settings } = this.#variant
    this.#chunks ??= new ChunkReassembler({
      budget: options.partialBudget,
      maxMessageSize: settings.maxMessageSize,
      maxPartialMessages: options.maxPartialMessages,
      maxPartialBytes: options.maxPartialBytes,
      timeoutMs: options.chunkTimeoutMs
    })
    return this.#chunks
  }

  #decodeBody (frame: Frame, body: Uint8Array): DecodedMessage {
    if (body.length === 0) {
      if (!mayBeEmpty(frame.type)) throw new errors.WIREBOX_ERR_EMPTY_PAYLOAD(frame.type.toString(16))
      return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope: undefined, bodySize: 0 }
    }
    const v = this.#variant
    let envelope: unknown
    if (v.compact !== undefined && isCompactType(frame.type)) {
      envelope = v.compact.decodeEnvelope(frame.type, body, Math.floor((frame.timestamp as number) / 1000))
    } else {
      envelope = v.codec.decode(body)
      if (v.settings.encoding === 'json') {
        // In binary frames the header carries the flags; a `flags` field in the body is ignored.
        const { type, flags: _flags, ...rest } = asObject(envelope)
        if (type !== frame.type) throw invalid(`type ${String(type)} differs from the header's ${frame.type}`, '/type')
        envelope = rest
      }
    }
    assertEnvelope(envelope)
    return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope, bodySize: body.length }
  }

  #decodeText (text: string): DecodedMessage {
    const v = this.#variant
    const s = v.settings
    // A UTF-16 code unit is at least one UTF-8 byte: a longer string is surely too large.
    if (text.length > v.maxFrameSize) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(text.length, v.maxFrameSize)
    if (s.encoding !== 'json') throw invalid('a text frame on a MessagePack connection', '/')
    const { type, flags = 0, ...envelope } = asObject((v.codec as JsonCodec).decodeText(text))
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
