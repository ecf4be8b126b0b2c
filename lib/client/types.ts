/** The client's public types: options, the WebSocket it needs, listener metadata, remote errors. */
import type { CompressionAlgorithm, Version } from '../core/constants.js'
import type { CodecOptions, Encoding } from '../core/codec.js'
import type { Platform } from '../core/platform.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { ErrorPayload } from '../../schemas/error.js'
import type { Protocol, ProtocolDefinition } from '../protocol.js'
import type { ReconnectOptions } from './reconnect.js'
import type { TSchema } from '@sinclair/typebox'
import type { WireboxError } from '../errors.js'

/** The WebSocket API the client uses (the browser's, Node's global one, or `ws`). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly protocol: string
  onopen: ((event: unknown) => void) | null
  onclose: ((event: { code: number, reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  send (data: Uint8Array | string): void
  close (code?: number, reason?: string): void
}

/** Checks a payload: undefined when valid, else the catalog error (see `validatePayload`). */
export type PayloadValidator = (schema: TSchema, value: unknown, eventType: string) => WireboxError | undefined

/** A WebSocket constructor. */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocketLike

/** Client options (defaults in CLIENT_DEFAULTS). */
export interface ClientOptions<P extends ProtocolDefinition = ProtocolDefinition> {
  /** The protocol's schemas, to validate payloads (types come from the type parameter alone). */
  protocol?: Protocol<P>
  /** Body encoding to ask for (default 'msgpack-compact' with `protocol`, else 'messagepack'). */
  encoding?: Encoding
  /** Highest protocol version to speak (default 3). */
  version?: Version
  /** Compression to ask for (default 'gzip'). */
  compression?: CompressionAlgorithm | 'none'
  /** The WebSocket class (default: the platform's). */
  WebSocket?: WebSocketClass
  /** CRC32 and compression (default: the platform's). */
  platform?: Platform
  /** A request without an answer after this many ms rejects (default 30000). */
  requestTimeoutMs?: number
  /** A send with `ack: true` without an ACK after this many ms rejects (default 10000). */
  ackTimeoutMs?: number
  /**
   * Checks a payload against its schema (in Node: `validatePayload` by default; in browsers: none
   * unless given, so that the schema compiler is bundled only when wanted; import it from
   * `fastify-wirebox/client/validate`).
   */
  validator?: PayloadValidator
  /** Refuse outgoing payloads that fail the protocol's schemas, before sending (default true with `protocol` and a validator). */
  validateOutgoing?: boolean
  /** Check incoming payloads against the protocol's schemas (default false). */
  validateIncoming?: boolean
  /** Reconnection, or false to stay closed (default: on, see ReconnectOptions). */
  reconnect?: ReconnectOptions | false
  /** While (re)connecting: queue requests and sends (true, default) or fail them at once (false). */
  queueWhileConnecting?: boolean
  /** Most requests and sends queued while connecting; more fail (default 100). */
  maxQueue?: number
  /** Codec limits (default: depth 64, no BigInt). */
  codec?: CodecOptions
  /** Extra query parameters for the URL (e.g. a token). */
  query?: Record<string, string>
}

/** Connection state. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** What an event listener gets besides the payload. */
export interface EventMeta {
  envelope: Envelope
  flags: number
  topic: string | undefined
  seq: number | undefined
}

/** An ERROR the server sent, with its wire code (0x100...) and details. */
export class WireboxRemoteError extends Error {
  /** The protocol error code. */
  readonly wireCode: number
  /** Client-safe details, e.g. `{ path }`. */
  readonly details: unknown
  constructor (payload: ErrorPayload) {
    super(payload.message)
    this.name = 'WireboxRemoteError'
    this.wireCode = payload.code
    this.details = payload.details
  }
}

/** Traffic counters (for displays of bytes saved). */
export interface ClientStats {
  messagesIn: number
  messagesOut: number
  /** Bytes on the wire. */
  wireBytesIn: number
  wireBytesOut: number
  /** Bodies after decompression (in) and before compression (out). */
  bodyBytesIn: number
  bodyBytesOut: number
}
