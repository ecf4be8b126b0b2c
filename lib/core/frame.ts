/**
 * The binary frame: an 11-byte (v1, v2) or 19-byte (v3) header and the payload as sent.
 * Pure functions over bytes; the CRC32 implementation is passed in by the caller's platform.
 *
 *   0 version u8 | 1 type u8 | 2 flags u8 | 3 length u32 BE | 7 crc32 u32 BE | 11 timestamp u64 BE (v3, µs)
 */
import { FLAGS_BY_VERSION, HEADER_SIZE, VERSIONS, messageTypeName, mayBeEmpty, Flag } from './constants.js'
import type { Version } from './constants.js'
import { errors } from '../errors.js'
import { readU32, writeU32 } from './bytes.js'

/** A decoded frame. `payload` is a view into the received bytes, not a copy. */
export interface Frame {
  /** Protocol version (1, 2 or 3). */
  version: Version
  /** Message type code. */
  type: number
  /** Flag bits. */
  flags: number
  /** v3 only: send time in microseconds since the Unix epoch; undefined for v1 and v2. */
  timestamp: number | undefined
  /** The payload as sent (compressed and/or chunked when the flags say so). */
  payload: Uint8Array
}

/** The fields of a frame header, as read (see `readHeader`). */
export interface FrameHeader {
  /** Protocol version (1, 2 or 3). */
  version: Version
  /** Message type code. */
  type: number
  /** Flag bits. */
  flags: number
  /** The length field: payload bytes the sender declared. */
  length: number
  /** The CRC32 field: the sender's checksum of the payload. */
  checksum: number
  /** v3 only: send time in microseconds since the Unix epoch; undefined for v1 and v2. */
  timestamp: number | undefined
}

/** What `encodeFrame` needs. */
export interface FrameInit {
  version: Version
  type: number
  /** Flag bits (default 0). */
  flags?: number
  /** v3 header timestamp in microseconds (default: now). Ignored for v1 and v2. */
  timestamp?: number
  payload: Uint8Array
}

/** Limits applied while decoding a frame. */
export interface FrameLimits {
  /** Largest payload accepted, checked against the length field before anything else is read. */
  maxMessageSize: number
  /** Accept the ENCRYPTED flag (only when an encryption hook is configured; default false). */
  allowEncrypted?: boolean
}

const U32 = 0x1_0000_0000

/** True when `version` is one this library speaks. */
export function isVersion (version: number): version is Version {
  return version === 1 || version === 2 || version === 3
}

/** Header size for `version`. */
export function headerSize (version: Version): number {
  return HEADER_SIZE[version]
}

/** The current time in microseconds since the Unix epoch (the v3 header clock). */
export function nowMicros (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/** Throws the catalog error for flags that `version` does not allow. */
export function checkFlags (flags: number, version: Version, allowEncrypted = false): void {
  const allowed = FLAGS_BY_VERSION[version]
  const extra = flags & ~allowed
  if (extra !== 0) {
    const reason = (extra & 0xc0) !== 0 ? 'reserved bits 6-7 are set' : `version ${version} does not define bits 0x${hex(extra & 0x3f)}`
    throw new errors.WIREBOX_ERR_INVALID_FLAGS(hex(flags), version, reason)
  }
  if ((flags & Flag.ENCRYPTED) !== 0 && !allowEncrypted) {
    throw new errors.WIREBOX_ERR_INVALID_FLAGS(hex(flags), version, 'ENCRYPTED is set but no encryption hook is configured')
  }
}

function hex (n: number): string {
  return n.toString(16).padStart(2, '0')
}

/**
 * Builds a frame: one allocation of header + payload. `crc32` is the platform's.
 * Throws WIREBOX_ERR_INVALID_FLAGS, WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE or WIREBOX_ERR_FRAME_TOO_LARGE
 * for what the receiver would reject.
 */
export function encodeFrame (init: FrameInit, crc32: (data: Uint8Array) => number): Uint8Array {
  const { version, type, payload } = init
  const flags = init.flags ?? 0
  if (!isVersion(version)) throw new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(String(version), VERSIONS.join(', '))
  if (messageTypeName(type) === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE(hex(type))
  checkFlags(flags, version, true)
  if (payload.length >= U32) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(payload.length, U32 - 1)
  const size = HEADER_SIZE[version]
  const frame = new Uint8Array(size + payload.length)
  writeHeader(frame, version, type, flags, payload.length, crc32(payload), init.timestamp)
  frame.set(payload, size)
  return frame
}

/**
 * Writes a header at the start of `target` (which must have room for it). Used by `encodeFrame`
 * and by encoders that reserve the header space in front of a payload they wrote in place.
 */
export function writeHeader (target: Uint8Array, version: Version, type: number, flags: number,
  length: number, checksum: number, timestamp?: number): void {
  // Byte writes, not a DataView: nothing allocated per frame.
  target[0] = version
  target[1] = type
  target[2] = flags
  writeU32(target, 3, length)
  writeU32(target, 7, checksum)
  if (version === 3) {
    const micros = timestamp ?? nowMicros()
    // Two u32 halves: exact for any timestamp up to 2^53 µs (year 2255).
    writeU32(target, 11, Math.floor(micros / U32))
    writeU32(target, 15, micros % U32)
  }
}

/**
 * Reads the header at the start of `bytes` and checks nothing: the caller has made sure that the
 * first byte is a version (`isVersion`) and that `bytes` holds that version's header. `decodeFrame`
 * reads the same fields (without making this object per frame), then checks; `wirebox inspect`
 * reads with it and reports.
 */
export function readHeader (bytes: Uint8Array): FrameHeader {
  const version = bytes[0] as Version
  return {
    version,
    type: bytes[1] as number,
    flags: bytes[2] as number,
    length: readU32(bytes, 3),
    checksum: readU32(bytes, 7),
    timestamp: version === 3 ? readU32(bytes, 11) * U32 + readU32(bytes, 15) : undefined
  }
}

/**
 * Decodes and checks a frame. Checks, in order: version (0x100), header present (0x200),
 * type (0x104), flags (0x200), declared length against `maxMessageSize` (0x102, before anything
 * is allocated), declared length against the bytes present (0x200), empty payload for types
 * that need an envelope (0x200), checksum (0x101).
 */
export function decodeFrame (bytes: Uint8Array, limits: FrameLimits, crc32: (data: Uint8Array) => number): Frame {
  if (bytes.length === 0) throw new errors.WIREBOX_ERR_FRAME_TRUNCATED(0, HEADER_SIZE[1])
  const version = bytes[0] as number
  if (!isVersion(version)) throw new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(version, VERSIONS.join(', '))
  const size = HEADER_SIZE[version]
  if (bytes.length < size) throw new errors.WIREBOX_ERR_FRAME_TRUNCATED(bytes.length, size)
  // The fields one by one, as readHeader reads them: no header object per frame.
  const type = bytes[1] as number
  const flags = bytes[2] as number
  const length = readU32(bytes, 3)
  if (messageTypeName(type) === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE(hex(type))
  checkFlags(flags, version, limits.allowEncrypted === true)
  if (length > limits.maxMessageSize) throw new errors.WIREBOX_ERR_FRAME_TOO_LARGE(length, limits.maxMessageSize)
  const present = bytes.length - size
  if (length !== present) throw new errors.WIREBOX_ERR_LENGTH_MISMATCH(length, present)
  if (length === 0 && !mayBeEmpty(type)) throw new errors.WIREBOX_ERR_EMPTY_PAYLOAD(hex(type))
  const payload = bytes.subarray(size)
  const checksum = readU32(bytes, 7)
  const actual = crc32(payload)
  if (checksum !== actual) throw new errors.WIREBOX_ERR_CHECKSUM_MISMATCH(hex8(checksum), hex8(actual))
  const timestamp = version === 3 ? readU32(bytes, 11) * U32 + readU32(bytes, 15) : undefined
  return { version, type, flags, timestamp, payload }
}

function hex8 (n: number): string {
  return n.toString(16).padStart(8, '0')
}
