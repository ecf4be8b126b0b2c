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

/** Decodes one connection's incoming frames. */
export class MessageDecoder {
  readonly settings: Readonly<ResolvedSettings>
  readonly #platform: Platform
  readonly #codec: Codec | JsonCodec
  readonly #compact: CompactCodec | undefined
  readonly #options: DecoderOptions
  // Created with the first chunked message: most connections never see one.
  #chunks: ChunkReassembler | undefined
  // What decodeFrame checks, made once rather than per frame.
  readonly #frameLimits: Readonly<FrameLimits>

  constructor (settings: WireSettings, options: DecoderOptions) {
    this.settings = resolvedOnce(settings)
    const { platform: _platform, codec: _codec, layout, partialBudget: _budget, ...limits } = options
    checkOnce(options, () => assertDecoderLimits(limits))
    this.#options = options
    this.#platform = options.platform
    this.#codec = sharedCodec(settings.encoding, options.codec, layout)
    this.#compact = compactOf(this.#codec)
    this.#frameLimits = frameLimits(Math.min(options.maxFrameSize ?? Infinity, this.settings.maxMessageSize), options.allowEncrypted ?? false)
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
    const s = this.settings
    const frame = decodeFrame(data, this.#frameLimits, this.#platform.crc32)
    if (frame.version !== s.version) throw new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(frame.version, s.version)
    let body: Uint8Array | undefined = frame.payload
    if ((frame.flags & Flag.CHUNKED) !== 0) {
      body = this.#reassembler().add(frame.type, frame.flags, frame.payload)
      if (body === undefined) return undefined
    }
    if ((frame.flags & Flag.COMPRESSED) === 0) return this.#decodeBody(frame, body)
    const inflated = decompressBody(body, s.compression, s.maxMessageSize, this.#platform)
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
    this.#chunks ??= new ChunkReassembler({
      budget: this.#options.partialBudget,
      maxMessageSize: this.settings.maxMessageSize,
      maxPartialMessages: this.#options.maxPartialMessages,
      maxPartialBytes: this.#options.maxPartialBytes,
      timeoutMs: this.#options.chunkTimeoutMs
    })
    return this.#chunks
  }

  #decodeBody (frame: Frame, body: Uint8Array): DecodedMessage {
    if (body.length === 0) {
      if (!mayBeEmpty(frame.type)) throw new errors.WIREBOX_ERR_EMPTY_PAYLOAD(frame.type.toString(16))
      return { version: frame.version, type: frame.type, flags: frame.flags, timestamp: frame.timestamp, envelope: undefined, bodySize: 0 }
    }
    let envelope: unknown
    if (this.#compact !== undefined && isCompactType(frame.type)) {
      envelope = this.#compact.decodeEnvelope(frame.type, body, Math.floor((frame.timestamp as number) / 1000))
    } else {
      envelope = this.#codec.decode(body)
      if (this.settings.encoding === 'json') {
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
    const s = this.settings
    // A UTF-16 code unit is at least one UTF-8 byte: a longer string is surely too large.
    const max = this.#frameLimits.maxMessageSize
    if (text.length > max) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(text.length, max)
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

// Frozen settings (a route's, a client's negotiated ones) resolve once for all their decoders.
const resolved = new WeakMap<WireSettings, Readonly<ResolvedSettings>>()

/** `settings` checked and with their defaults, shared by every decoder given the same frozen object. */
function resolvedOnce (settings: WireSettings): Readonly<ResolvedSettings> {
  if (!Object.isFrozen(settings)) return Object.freeze(resolveSettings(settings))
  let result = resolved.get(settings)
  if (result === undefined) resolved.set(settings, result = Object.freeze(resolveSettings(settings)))
  return result
}

// A few distinct limits serve every decoder of a process (they come from the routes' settings).
const frameLimitsMade = new Map<string, Readonly<FrameLimits>>()

/** The frame limits for these values, one frozen object for all the decoders that use them. */
function frameLimits (maxMessageSize: number, allowEncrypted: boolean): Readonly<FrameLimits> {
  const key = `${maxMessageSize}/${String(allowEncrypted)}`
  let limits = frameLimitsMade.get(key)
  if (limits === undefined) frameLimitsMade.set(key, limits = Object.freeze({ maxMessageSize, allowEncrypted }))
  return limits
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
