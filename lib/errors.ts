/**
 * The one catalog of every error fastify-wirebox raises.
 *
 * Each entry is a class built by `createError`: its instances are `instanceof` the base class
 * that says the kind of failure (`RangeError` for limits, `TypeError` for bad options and
 * unencodable values, `Error` otherwise) and carry a string `code` (`WIREBOX_ERR_*`), the
 * protocol's numeric `wireCode` (0x100...) sent in ERROR messages, and the WebSocket `closeCode`
 * the error leads to when it closes the connection. This file is pure: the browser client uses it.
 */

const kWireboxError = Symbol.for('fastify-wirebox.error')

/** An error from the catalog. */
export interface WireboxError extends Error {
  /** The catalog key, e.g. `WIREBOX_ERR_CHECKSUM_MISMATCH`. */
  readonly code: string
  /** The protocol error code sent in an ERROR message (0x100...), or undefined for local errors. */
  readonly wireCode: number | undefined
  /** The WebSocket close code when this error closes the connection, else undefined. */
  readonly closeCode: number | undefined
  /** Extra, client-safe context (e.g. the failing path). */
  details?: unknown
}

/** A catalog entry: construct it with the values its message template needs. */
export interface WireboxErrorClass {
  new (...args: Array<string | number | bigint>): WireboxError
  readonly code: string
  readonly wireCode: number | undefined
  readonly closeCode: number | undefined
  /** The message template, `%s` standing for each constructor argument in turn. */
  readonly template: string
}

type BaseErrorClass = ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor

function format (template: string, args: ReadonlyArray<string | number | bigint>): string {
  let i = 0
  return template.replace(/%s/g, () => (i < args.length ? String(args[i++]) : '%s'))
}

/** Builds a catalog entry; used only in this file. */
function createError (
  code: string,
  wireCode: number | undefined,
  template: string,
  Base: BaseErrorClass = Error,
  closeCode?: number
): WireboxErrorClass {
  const Entry = class extends (Base as ErrorConstructor) implements WireboxError {
    static readonly code = code
    static readonly wireCode = wireCode
    static readonly closeCode = closeCode
    static readonly template = template
    readonly code = code
    readonly wireCode = wireCode
    readonly closeCode = closeCode
    details?: unknown
    readonly [kWireboxError] = true

    constructor (...args: Array<string | number | bigint>) {
      super(format(template, args))
      this.name = Base.name
    }
  }
  Object.defineProperty(Entry, 'name', { value: code })
  return Entry
}

/** True when `err` comes from the catalog (works across copies of the package). */
export function isWireboxError (err: unknown): err is WireboxError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kWireboxError] === true
}

/** The protocol's numeric error codes (PROTOCOL.md section 7). */
export const WireCode = Object.freeze({
  INVALID_PROTOCOL_VERSION: 0x100,
  CHECKSUM_MISMATCH: 0x101,
  MESSAGE_TOO_LARGE: 0x102,
  DECOMPRESSION_FAILED: 0x103,
  INVALID_MESSAGE_TYPE: 0x104,
  INVALID_DATA_FORMAT: 0x200,
  MISSING_REQUIRED_FIELDS: 0x201,
  AUTHENTICATION_FAILED: 0x202,
  PERMISSION_DENIED: 0x203,
  RATE_LIMIT_EXCEEDED: 0x204,
  INTERNAL_ERROR: 0x300,
  REQUEST_TIMEOUT: 0x301
})

/**
 * WebSocket close codes that fastify-wirebox sends: the catalog's and the others (RFC 6455
 * section 7.4.1; 4000-4999 are for applications, section 7.4.2).
 */
export const CloseCode = Object.freeze({
  /** A close asked for by the application (`close()`). */
  NORMAL: 1000,
  /** The server is shutting down (`app.close()`). */
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  INVALID_DATA: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  /** The server met an unexpected condition (e.g. a route's connection setup failed). */
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** The client heard nothing from the server for two heartbeat intervals. */
  HEARTBEAT_TIMEOUT: 4000
})

const W = WireCode
const C = CloseCode

/** Every error of fastify-wirebox, keyed by its code. */
export const errors = {
  // Frame header
  WIREBOX_ERR_UNSUPPORTED_VERSION: createError('WIREBOX_ERR_UNSUPPORTED_VERSION', W.INVALID_PROTOCOL_VERSION,
    'Unsupported protocol version %s (supported: %s)', Error, C.PROTOCOL_ERROR),
  WIREBOX_ERR_FRAME_TRUNCATED: createError('WIREBOX_ERR_FRAME_TRUNCATED', W.INVALID_DATA_FORMAT,
    'Frame of %s bytes is shorter than its %s-byte header', Error, C.PROTOCOL_ERROR),
  WIREBOX_ERR_LENGTH_MISMATCH: createError('WIREBOX_ERR_LENGTH_MISMATCH', W.INVALID_DATA_FORMAT,
    'Frame length field says %s payload bytes but %s are present', Error, C.PROTOCOL_ERROR),
  WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE: createError('WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE', W.INVALID_MESSAGE_TYPE,
    'Unknown message type 0x%s'),
  WIREBOX_ERR_INVALID_FLAGS: createError('WIREBOX_ERR_INVALID_FLAGS', W.INVALID_DATA_FORMAT,
    'Invalid flags 0x%s for version %s: %s', Error, C.PROTOCOL_ERROR),
  WIREBOX_ERR_EMPTY_PAYLOAD: createError('WIREBOX_ERR_EMPTY_PAYLOAD', W.INVALID_DATA_FORMAT,
    'A message of type 0x%s must carry an envelope; the payload is empty'),
  WIREBOX_ERR_CHECKSUM_MISMATCH: createError('WIREBOX_ERR_CHECKSUM_MISMATCH', W.CHECKSUM_MISMATCH,
    'Checksum mismatch: header says 0x%s, payload has 0x%s'),

  // Size limits
  WIREBOX_ERR_FRAME_TOO_LARGE: createError('WIREBOX_ERR_FRAME_TOO_LARGE', W.MESSAGE_TOO_LARGE,
    'Frame payload of %s bytes exceeds the limit of %s bytes', RangeError, C.MESSAGE_TOO_BIG),
  WIREBOX_ERR_DECOMPRESSED_TOO_LARGE: createError('WIREBOX_ERR_DECOMPRESSED_TOO_LARGE', W.MESSAGE_TOO_LARGE,
    'Decompressed message exceeds the limit of %s bytes', RangeError, C.MESSAGE_TOO_BIG),
  WIREBOX_ERR_CHUNKED_TOO_LARGE: createError('WIREBOX_ERR_CHUNKED_TOO_LARGE', W.MESSAGE_TOO_LARGE,
    'Chunked message %s exceeds the limit of %s bytes', RangeError, C.MESSAGE_TOO_BIG),
  WIREBOX_ERR_TOO_MANY_PARTIAL_MESSAGES: createError('WIREBOX_ERR_TOO_MANY_PARTIAL_MESSAGES', W.MESSAGE_TOO_LARGE,
    'Too many incomplete chunked messages: %s (limit %s)', RangeError, C.POLICY_VIOLATION),
  WIREBOX_ERR_PARTIAL_BYTES_EXCEEDED: createError('WIREBOX_ERR_PARTIAL_BYTES_EXCEEDED', W.MESSAGE_TOO_LARGE,
    'Incomplete chunked messages hold more than %s bytes', RangeError, C.POLICY_VIOLATION),

  // Compression
  WIREBOX_ERR_DECOMPRESSION_FAILED: createError('WIREBOX_ERR_DECOMPRESSION_FAILED', W.DECOMPRESSION_FAILED,
    'Decompression (%s) failed: %s'),
  WIREBOX_ERR_COMPRESSION_NOT_NEGOTIATED: createError('WIREBOX_ERR_COMPRESSION_NOT_NEGOTIATED', W.DECOMPRESSION_FAILED,
    'A COMPRESSED frame arrived but the connection negotiated no compression'),

  // Chunking
  WIREBOX_ERR_INVALID_CHUNK: createError('WIREBOX_ERR_INVALID_CHUNK', W.INVALID_DATA_FORMAT,
    'Invalid chunk of message %s: %s'),
  WIREBOX_ERR_CHUNK_TIMEOUT: createError('WIREBOX_ERR_CHUNK_TIMEOUT', W.INVALID_DATA_FORMAT,
    'Chunked message %s was not completed within %s ms and was dropped'),

  // Message body (codecs)
  WIREBOX_ERR_DECODE_FAILED: createError('WIREBOX_ERR_DECODE_FAILED', W.INVALID_DATA_FORMAT,
    'Malformed %s body: %s', Error, C.INVALID_DATA),
  WIREBOX_ERR_FORBIDDEN_KEY: createError('WIREBOX_ERR_FORBIDDEN_KEY', W.INVALID_DATA_FORMAT,
    'Forbidden key "%s" (prototype pollution)', Error, C.INVALID_DATA),
  WIREBOX_ERR_TOO_DEEP: createError('WIREBOX_ERR_TOO_DEEP', W.INVALID_DATA_FORMAT,
    'Value nested deeper than %s levels', RangeError, C.INVALID_DATA),
  WIREBOX_ERR_UNSUPPORTED_EXTENSION: createError('WIREBOX_ERR_UNSUPPORTED_EXTENSION', W.INVALID_DATA_FORMAT,
    'MessagePack extension type %s is not enabled', Error, C.INVALID_DATA),
  WIREBOX_ERR_UNSAFE_INTEGER: createError('WIREBOX_ERR_UNSAFE_INTEGER', W.INVALID_DATA_FORMAT,
    'Integer %s is outside the safe range and BigInt is not enabled', RangeError, C.INVALID_DATA),
  WIREBOX_ERR_INVALID_TAGGED_VALUE: createError('WIREBOX_ERR_INVALID_TAGGED_VALUE', W.INVALID_DATA_FORMAT,
    'Invalid %s value: %s', Error, C.INVALID_DATA),
  WIREBOX_ERR_ENCODE_FAILED: createError('WIREBOX_ERR_ENCODE_FAILED', W.INVALID_DATA_FORMAT,
    'Cannot encode value as %s: %s', TypeError),

  // Envelope and payloads
  WIREBOX_ERR_INVALID_ENVELOPE: createError('WIREBOX_ERR_INVALID_ENVELOPE', W.INVALID_DATA_FORMAT,
    'Invalid envelope: %s at %s'),
  WIREBOX_ERR_MISSING_FIELDS: createError('WIREBOX_ERR_MISSING_FIELDS', W.MISSING_REQUIRED_FIELDS,
    'Missing required field %s'),
  WIREBOX_ERR_INVALID_PAYLOAD: createError('WIREBOX_ERR_INVALID_PAYLOAD', W.INVALID_DATA_FORMAT,
    'Invalid payload for "%s": %s'),
  WIREBOX_ERR_UNKNOWN_EVENT: createError('WIREBOX_ERR_UNKNOWN_EVENT', W.INVALID_DATA_FORMAT,
    'Unknown %s "%s"'),
  WIREBOX_ERR_WRONG_DIRECTION: createError('WIREBOX_ERR_WRONG_DIRECTION', W.INVALID_DATA_FORMAT,
    'Event "%s" is sent only by %s; %s may not send it'),
  WIREBOX_ERR_INVALID_TOPIC: createError('WIREBOX_ERR_INVALID_TOPIC', W.INVALID_DATA_FORMAT,
    'Invalid topic: %s'),
  WIREBOX_ERR_LAYOUT_MISMATCH: createError('WIREBOX_ERR_LAYOUT_MISMATCH', W.INVALID_DATA_FORMAT,
    'msgpack-compact layout mismatch: the peer has layout %s, this side %s (%s); both ends need the same protocol schemas (a stale client?)', Error, C.PROTOCOL_ERROR),
  WIREBOX_ERR_UNEXPECTED_MESSAGE: createError('WIREBOX_ERR_UNEXPECTED_MESSAGE', W.INVALID_MESSAGE_TYPE,
    'A %s message is not expected from the %s'),

  // Requests and acknowledgements
  WIREBOX_ERR_INTERNAL: createError('WIREBOX_ERR_INTERNAL', W.INTERNAL_ERROR,
    'Internal error while handling "%s"'),
  WIREBOX_ERR_REQUEST_TIMEOUT: createError('WIREBOX_ERR_REQUEST_TIMEOUT', W.REQUEST_TIMEOUT,
    'Request "%s" timed out after %s ms'),
  WIREBOX_ERR_TOO_MANY_REQUESTS: createError('WIREBOX_ERR_TOO_MANY_REQUESTS', W.RATE_LIMIT_EXCEEDED,
    'Too many requests in flight (limit %s)', RangeError),
  WIREBOX_ERR_ACK_TIMEOUT: createError('WIREBOX_ERR_ACK_TIMEOUT', undefined,
    'No ACK for message %s within %s ms'),
  WIREBOX_ERR_ACK_UNSUPPORTED: createError('WIREBOX_ERR_ACK_UNSUPPORTED', undefined,
    'ACK_REQUIRED needs protocol version 3; this connection speaks version %s', TypeError),
  WIREBOX_ERR_CONNECTION_CLOSED: createError('WIREBOX_ERR_CONNECTION_CLOSED', undefined,
    'The connection closed (%s)'),

  // Access and abuse
  WIREBOX_ERR_AUTHENTICATION_FAILED: createError('WIREBOX_ERR_AUTHENTICATION_FAILED', W.AUTHENTICATION_FAILED,
    'Authentication failed', Error, C.POLICY_VIOLATION),
  WIREBOX_ERR_PERMISSION_DENIED: createError('WIREBOX_ERR_PERMISSION_DENIED', W.PERMISSION_DENIED,
    'Permission denied: %s'),
  WIREBOX_ERR_RATE_LIMITED: createError('WIREBOX_ERR_RATE_LIMITED', W.RATE_LIMIT_EXCEEDED,
    'Rate limit exceeded: %s', RangeError),
  WIREBOX_ERR_RATE_LIMIT_ABUSE: createError('WIREBOX_ERR_RATE_LIMIT_ABUSE', W.RATE_LIMIT_EXCEEDED,
    'Rate limit exceeded %s times within a second: closing', RangeError, C.POLICY_VIOLATION),
  WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS: createError('WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS', W.RATE_LIMIT_EXCEEDED,
    'Too many subscriptions on this connection (limit %s)', RangeError),
  WIREBOX_ERR_TOO_MANY_TOPICS: createError('WIREBOX_ERR_TOO_MANY_TOPICS', W.RATE_LIMIT_EXCEEDED,
    'Too many topics with subscribers on this server (limit %s)', RangeError),
  WIREBOX_ERR_PARTIAL_INPUT_BUDGET: createError('WIREBOX_ERR_PARTIAL_INPUT_BUDGET', W.MESSAGE_TOO_LARGE,
    'Incomplete messages of all connections hold more than %s bytes: try again later', RangeError, C.TRY_AGAIN_LATER),
  WIREBOX_ERR_TOO_MANY_CONNECTIONS: createError('WIREBOX_ERR_TOO_MANY_CONNECTIONS', undefined,
    'Too many open connections (limit %s): HTTP 503 before the upgrade', RangeError),
  WIREBOX_ERR_ORIGIN_REJECTED: createError('WIREBOX_ERR_ORIGIN_REJECTED', undefined,
    'Origin %s is not allowed'),
  WIREBOX_ERR_SLOW_CONSUMER: createError('WIREBOX_ERR_SLOW_CONSUMER', undefined,
    'Send buffer above %s bytes: closing the slow consumer', RangeError, C.TRY_AGAIN_LATER),
  WIREBOX_ERR_HEARTBEAT_TIMEOUT: createError('WIREBOX_ERR_HEARTBEAT_TIMEOUT', undefined,
    'Peer silent for %s ms: terminated'),

  // Local misuse (never sent on the wire)
  WIREBOX_ERR_INVALID_OPTION: createError('WIREBOX_ERR_INVALID_OPTION', undefined,
    'Invalid option %s: %s', TypeError)
} as const

/** The catalog's keys. */
export type WireboxErrorCode = keyof typeof errors
