/**
 * Wire-format constants: versions, message types, flag bits, header sizes and default limits
 * (PROTOCOL.md sections 2 and 6).
 */

/** Protocol versions this library speaks. */
export const VERSIONS = [1, 2, 3] as const
/** A protocol version. */
export type Version = typeof VERSIONS[number]
/** The highest version this library speaks. */
export const MAX_VERSION: Version = 3

/** Message type codes (header byte 1). */
export const MessageType = Object.freeze({
  EVENT: 0x01,
  REQUEST: 0x02,
  RESPONSE: 0x03,
  ACK: 0x04,
  HEARTBEAT: 0x10,
  PING: 0x11,
  PONG: 0x12,
  SUBSCRIBE: 0x20,
  UNSUBSCRIBE: 0x21,
  SUBSCRIPTION_ACK: 0x22,
  VERSION_CHECK: 0xfd,
  PROTOCOL_NEGOTIATION: 0xfe,
  ERROR: 0xff
})
/** A message type code. */
export type MessageTypeCode = typeof MessageType[keyof typeof MessageType]

const TYPE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]))

/** The name of a message type code, or undefined when the code is not a known type. */
export function messageTypeName (code: number): string | undefined {
  return TYPE_NAMES.get(code)
}

/** True for the types whose payload may be empty (PING, PONG, HEARTBEAT). */
export function mayBeEmpty (type: number): boolean {
  return type === MessageType.PING || type === MessageType.PONG || type === MessageType.HEARTBEAT
}

/** Flag bits (header byte 2). */
export const Flag = Object.freeze({
  COMPRESSED: 1 << 0,
  ENCRYPTED: 1 << 1,
  PRIORITY: 1 << 2,
  BROADCAST: 1 << 3,
  ACK_REQUIRED: 1 << 4,
  CHUNKED: 1 << 5
})

/** The flag bits each version defines; any other bit set is rejected. */
export const FLAGS_BY_VERSION: Readonly<Record<Version, number>> = Object.freeze({
  1: Flag.PRIORITY | Flag.BROADCAST | Flag.CHUNKED,
  2: Flag.COMPRESSED | Flag.PRIORITY | Flag.BROADCAST | Flag.CHUNKED,
  3: Flag.COMPRESSED | Flag.ENCRYPTED | Flag.PRIORITY | Flag.BROADCAST | Flag.ACK_REQUIRED | Flag.CHUNKED
})

/** Header size in bytes for each version. */
export const HEADER_SIZE: Readonly<Record<Version, number>> = Object.freeze({ 1: 11, 2: 11, 3: 19 })

/** Size of the chunk header (message id u32, index u16, count u16) that starts a CHUNKED payload. */
export const CHUNK_HEADER_SIZE = 8

/** Compression algorithms a connection can negotiate. */
export type CompressionAlgorithm = 'gzip' | 'deflate'

/** Default limits (PROTOCOL.md section 6). */
export const DEFAULTS = Object.freeze({
  /** Largest message, before and after decompression and reassembly: 64 MiB. */
  maxMessageSize: 64 * 1024 * 1024,
  /** Payloads larger than this many bytes are compressed: 1024. */
  compressionThreshold: 1024,
  /** zlib level for gzip and deflate: 6. */
  compressionLevel: 6,
  /** A kind of message whose compression saves less than this fraction is sent uncompressed for a while: 0.4. */
  compressionMinSavings: 0.4,
  /** Largest chunk data (after compression, without the 8-byte chunk header): 256 KiB. */
  chunkSize: 256 * 1024,
  /** Incomplete chunked messages are dropped after this many ms: 60 s. */
  chunkTimeoutMs: 60_000,
  /** Incomplete chunked messages one connection may hold at once: 16. */
  maxPartialMessages: 16,
  /** Deepest nesting of arrays and maps in a message body: 64. */
  maxDepth: 64
})
