/**
 * Messages to WebSocket frames, for one negotiated setting (PROTOCOL.md sections 2-4):
 *
 *   encode: envelope -> codec -> compress (above threshold, if smaller) -> chunk (above chunk size) -> frame(s)
 *
 * JSON messages that are neither compressed nor chunked travel as text frames holding the
 * envelope with its numeric `type` (and `flags` when set); everything else is a binary frame.
 * An encoder is stateless but for its chunk message ids and what it learnt of compression, so
 * one encoder can serve every socket of a topic variant. Decoding is message-decoder.ts.
 */
import { Flag, HEADER_SIZE } from './constants.js'
import { checkFlags, encodeFrame, nowMicros, writeHeader } from './frame.js'
import { splitIntoChunks } from './chunking.js'
import { CompressionAdvisor, compressIfSmaller } from './compression.js'
import type { JsonCodec } from './json-codec.js'
import type { Codec } from './codec.js'
import type { MessagePackCodec } from './msgpack-codec.js'
import type { Platform } from './platform.js'
import { isCompactType } from './compact/codec.js'
import type { CompactCodec } from './compact/codec.js'
import { utf8Length } from './bytes.js'
import type { Envelope } from '../../schemas/envelope.js'
import { errors } from '../errors.js'
import { compactOf, sharedCodec, resolveSettings } from './wire-settings.js'
import type { ResolvedSettings, WireContext, WireSettings } from './wire-settings.js'

export { createCodec } from './wire-settings.js'
export type { WireContext, WireSettings } from './wire-settings.js'
export { MessageDecoder } from './message-decoder.js'
export type { DecodedMessage, DecoderOptions } from './message-decoder.js'

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
  /**
   * Bytes in front of `frames[0]`, in its buffer, that belong to this message and are free for the
   * transport's own frame header (`WireContext.transportRoom`; 0 when there are none).
   */
  room: number
  /**
   * What the transport made of the frames (e.g. WebSocket frames), made by the first socket that
   * sends the message and reused by the others: a topic message is encoded once for all its
   * subscribers.
   */
  transport?: unknown
}

const ENCODER_FLAGS = Flag.COMPRESSED | Flag.CHUNKED

/** Encodes messages for one negotiated setting. */
export class MessageEncoder {
  readonly settings: Readonly<ResolvedSettings>
  readonly #platform: Platform
  readonly #codec: Codec | JsonCodec
  readonly #compact: CompactCodec | undefined
  readonly #advisor: CompressionAdvisor
  readonly #transportRoom: number
  #nextMessageId = 1

  constructor (settings: WireSettings, context: WireContext) {
    this.settings = Object.freeze(resolveSettings(settings))
    this.#platform = context.platform
    this.#codec = sharedCodec(settings.encoding, context.codec, context.layout)
    this.#compact = compactOf(this.#codec)
    this.#advisor = new CompressionAdvisor(this.settings.minSavings)
    const transportRoom = context.transportRoom ?? 0
    if (!Number.isInteger(transportRoom) || transportRoom < 0 || transportRoom > 32) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('transportRoom', 'must be an integer from 0 to 32')
    }
    this.#transportRoom = transportRoom
  }

  /**
   * Encodes one message into the frames to send, in order (more than one when chunked). The body
   * is encoded once; an uncompressed MessagePack body is written behind room for its header, so
   * the frame needs no copy.
   */
  async encode (message: OutgoingMessage): Promise<WireFrame[]> {
    return (await this.encodeNow(message)).frames
  }

  /** Like `encode`, with the sizes (for metrics). */
  async encodeMessage (message: OutgoingMessage): Promise<EncodedMessage> {
    return await this.encodeNow(message)
  }

  /**
   * `encodeMessage`, synchronously where it can be: the result itself, or a promise when a large
   * body compresses in the thread pool. Throws (or rejects) with catalog errors.
   */
  encodeNow (message: OutgoingMessage): EncodedMessage | Promise<EncodedMessage> {
    const s = this.settings
    const flags = message.flags ?? 0
    if ((flags & ENCODER_FLAGS) !== 0) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('flags', 'COMPRESSED and CHUNKED are set by the encoder')
    }
    checkFlags(flags, s.version)
    const headerSize = HEADER_SIZE[s.version]
    const room = headerSize + this.#transportRoom
    let text: string | undefined
    let framed: Uint8Array | undefined
    let body: Uint8Array
    let timestamp = message.timestamp
    if (this.#compact !== undefined && isCompactType(message.type)) {
      // The compact body has no timestamp: the header carries the envelope's (PROTOCOL.md 9.2).
      const ms = message.envelope.timestamp
      if (timestamp === undefined || Math.floor(timestamp / 1000) !== ms) timestamp = ms * 1000
      framed = this.#compact.encodeEnvelope(message.type, message.envelope, room).subarray(this.#transportRoom)
      body = framed.subarray(headerSize)
    } else if (s.encoding === 'json') {
      // Text frames carry the flags in the body; binary frames ignore a body `flags` field.
      text = (this.#codec as JsonCodec).encodeText(flags === 0
        ? { type: message.type, ...message.envelope }
        : { type: message.type, flags, ...message.envelope })
      // A UTF-16 code unit is at most 3 UTF-8 bytes: a short text is neither compressed nor chunked.
      if (text.length * 3 <= this.#plainTextLimit) return textMessage(text)
      body = utf8.encode(text)
    } else {
      framed = (this.#compact?.plain ?? this.#codec as MessagePackCodec).encodeEnvelope(message.envelope, room).subarray(this.#transportRoom)
      body = framed.subarray(headerSize)
    }
    if (body.length > s.maxMessageSize) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(body.length, s.maxMessageSize)

    const compressed = compressIfSmaller(body, { algorithm: s.compression, threshold: s.threshold, level: s.level }, this.#platform, this.#advisor, message.envelope.event_type)
    timestamp ??= s.version === 3 ? nowMicros() : undefined
    if (!(compressed instanceof Promise)) return this.#frames(message.type, flags, timestamp, body, compressed, framed, text)
    return compressed.then((result) => this.#frames(message.type, flags, timestamp, body, result, framed, text))
  }

  /** JSON texts up to this many UTF-16 units surely need no compression and no chunking. */
  get #plainTextLimit (): number {
    const s = this.settings
    return Math.min(s.compression === 'none' ? Infinity : s.threshold, s.chunkSize, s.maxMessageSize)
  }

  /** The frames of an encoded body: one frame, or chunks. */
  #frames (type: number, flags: number, timestamp: number | undefined, body: Uint8Array, compressed: Uint8Array | undefined, framed: Uint8Array | undefined, text: string | undefined): EncodedMessage {
    const s = this.settings
    if (compressed === undefined && body.length <= s.chunkSize) {
      if (text !== undefined) return textMessage(text, body.length)
      const frame = framed as Uint8Array
      writeHeader(frame, s.version, type, flags, body.length, this.#platform.crc32(body), timestamp)
      return { frames: [frame], bodySize: body.length, wireSize: frame.length, room: this.#transportRoom }
    }
    const payload = compressed ?? body
    const sentFlags = compressed === undefined ? flags : flags | Flag.COMPRESSED
    if (payload.length <= s.chunkSize) {
      const frame = encodeFrame({ version: s.version, type, flags: sentFlags, timestamp, payload }, this.#platform.crc32)
      return { frames: [frame], bodySize: body.length, wireSize: frame.length, room: 0 }
    }
    const id = this.#nextMessageId
    this.#nextMessageId = (id + 1) >>> 0 || 1
    const frames = splitIntoChunks(payload, id, s.chunkSize).map((chunk) => encodeFrame({
      version: s.version, type, flags: sentFlags | Flag.CHUNKED, timestamp, payload: chunk
    }, this.#platform.crc32))
    return { frames, bodySize: body.length, wireSize: frames.reduce((sum, f) => sum + f.length, 0), room: 0 }
  }
}

const utf8 = new TextEncoder()

/** A text frame's sizes: UTF-8 bytes (measured only when the body was encoded anyway). */
function textMessage (text: string, bytes?: number): EncodedMessage {
  const size = bytes ?? utf8Length(text)
  return { frames: [text], bodySize: size, wireSize: size, room: 0 }
}
