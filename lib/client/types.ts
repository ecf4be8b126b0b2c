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
  /** Closes at once, without the closing handshake (ws has it; a browser's WebSocket has not). */
  terminate?: () => void
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
  /**
   * Each connection attempt: how long the server has to open the socket and send its negotiation
   * before the attempt is given up (reported, then the reconnection's backoff), default 10000;
   * 0: no limit.
   */
  connectTimeoutMs?: number
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

/** One problem of a payload the server refused (PROTOCOL.md section 7, ERROR details). */
export interface RemoteProblem {
  /** JSON pointer of the failing value, e.g. `/payload/severity`. */
  path: string
  message: string
  /** The values allowed, for a literal, an enum or a union of literals. */
  allowed?: Array<string | number | boolean>
}

/**
 * An ERROR the server sent: the catalog's name (`code`, e.g. `WIREBOX_ERR_INVALID_PAYLOAD`), the
 * protocol's `wireCode` (0x100...), and what its details say (PROTOCOL.md section 7).
 */
export class WireboxRemoteError extends Error {
  /** The error catalog's name of the error, when the server sent one (wirebox servers do). */
  readonly code: string | undefined
  /** The protocol error code. */
  readonly wireCode: number
  /** Client-safe details, e.g. `{ event_type, path, problems }`. */
  readonly details: unknown
  /** The event or request the error is about (`details.event_type`). */
  readonly eventType: string | undefined
  /** The first failing path (`details.path`), e.g. `/payload/samples`. */
  readonly path: string | undefined
  /** Every problem of a refused payload (`details.problems`; empty when the server sent none). */
  readonly problems: readonly RemoteProblem[]
  constructor (payload: ErrorPayload) {
    super(payload.message)
    this.name = 'WireboxRemoteError'
    this.code = typeof payload.error === 'string' ? payload.error : undefined
    this.wireCode = payload.code
    this.details = payload.details
    // What the server sent is read defensively: anything of the wrong type is left out.
    const details = (typeof payload.details === 'object' && payload.details !== null ? payload.details : {}) as Record<string, unknown>
    this.eventType = typeof details.event_type === 'string' ? details.event_type : undefined
    this.path = typeof details.path === 'string' ? details.path : undefined
    this.problems = Array.isArray(details.problems) ? details.problems.flatMap(remoteProblem) : []
  }
}

function remoteProblem (value: unknown): RemoteProblem[] {
  if (typeof value !== 'object' || value === null) return []
  const { path, message, allowed } = value as Record<string, unknown>
  if (typeof path !== 'string' || typeof message !== 'string') return []
  const values = Array.isArray(allowed) ? allowed.filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v)) : undefined
  return [values === undefined ? { path, message } : { path, message, allowed: values }]
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
