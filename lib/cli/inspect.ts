/**
 * `wirebox inspect`: a protocol analyzer for one frame. Reads the header (version, type, flags,
 * length, checksum, timestamp), checks the checksum, shows the chunk header, inflates, and
 * decodes the body; reports every problem instead of stopping at the first. The bytes are read
 * by the wire core's own readers (`readHeader`, `readChunkHeader`), which check nothing, so that
 * every field of a broken frame can still be shown.
 */
import { HEADER_SIZE, Flag, messageTypeName, CHUNK_HEADER_SIZE } from '../core/constants.js'
import { isVersion, readHeader } from '../core/frame.js'
import { readChunkHeader } from '../core/chunking.js'
import { createJsonCodec } from '../core/json-codec.js'
import { createMessagePackCodec } from '../core/msgpack-codec.js'
import { nodePlatform } from '../platform/node.js'
import { createCompactCodec, isCompactType } from '../core/compact/codec.js'
import type { CompactLayout } from '../core/compact/layout.js'
import type { CompressionAlgorithm } from '../core/constants.js'

/** What `inspectFrame` found. */
interface Inspection {
  transport: 'binary' | 'text'
  header?: {
    version: number
    type: number
    typeName: string | undefined
    flags: number
    flagNames: string[]
    length: number
    checksum: number
    checksumOk: boolean
    timestampMicros?: number
    timestampIso?: string
  }
  chunk?: { messageId: number, index: number, count: number, dataBytes: number }
  compression?: CompressionAlgorithm
  bodyBytes?: number
  encoding?: 'messagepack' | 'msgpack-compact' | 'json'
  body?: unknown
  /** What the reader should know that is not a problem of the frame. */
  note?: string
  problems: string[]
}

/** What `inspectFrame` may use. */
export interface InspectOptions {
  /** The protocol's layout (compileLayout), to read msgpack-compact bodies (PROTOCOL.md section 9). */
  layout?: CompactLayout
}

const FLAG_NAMES: Array<[number, string]> = Object.entries(Flag).map(([name, bit]) => [bit, name])

/** Names of the flags set in a flags byte. */
export function flagNames (flags: number): string[] {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name)
}

/** Parses hex (whitespace, `0x`, `:` allowed) into bytes; undefined when it is not hex. */
export function parseHex (text: string): Uint8Array | undefined {
  const clean = text.replace(/0x/gi, '').replace(/[\s:,]/g, '')
  if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(clean)) return undefined
  return Uint8Array.from(clean.match(/../g) as string[], (h) => parseInt(h, 16))
}

/** Inspects one frame: bytes of a binary message, or the text of a text message. */
export async function inspectFrame (input: Uint8Array | string, options: InspectOptions = {}): Promise<Inspection> {
  const problems: string[] = []
  if (typeof input === 'string') {
    const result: Inspection = { transport: 'text', encoding: 'json', problems, bodyBytes: new TextEncoder().encode(input).length }
    try {
      result.body = createJsonCodec().decodeText(input)
    } catch (err) {
      problems.push((err as Error).message)
    }
    return result
  }
  const result: Inspection = { transport: 'binary', problems }
  if (input.length === 0 || !isVersion(input[0] as number)) {
    problems.push(input.length === 0 ? 'empty frame' : `unknown version byte 0x${(input[0] as number).toString(16)}`)
    return result
  }
  const version = input[0] as 1 | 2 | 3
  const size = HEADER_SIZE[version]
  if (input.length < size) {
    problems.push(`${input.length} bytes: shorter than the ${size}-byte header of version ${version}`)
    return result
  }
  const { type, flags, length, checksum, timestamp } = readHeader(input)
  const payload = input.subarray(size)
  const actual = nodePlatform.crc32(payload)
  result.header = {
    version,
    type,
    typeName: messageTypeName(type),
    flags,
    flagNames: flagNames(flags),
    length,
    checksum,
    checksumOk: checksum === actual
  }
  if (timestamp !== undefined) {
    result.header.timestampMicros = timestamp
    const date = new Date(timestamp / 1000)
    if (!Number.isNaN(date.getTime())) result.header.timestampIso = date.toISOString()
  }
  if (result.header.typeName === undefined) problems.push(`unknown message type 0x${type.toString(16)}`)
  if ((flags & 0xc0) !== 0) problems.push('reserved flag bits 6-7 are set')
  if (length !== payload.length) problems.push(`length field says ${length} bytes, ${payload.length} present`)
  if (!result.header.checksumOk) problems.push(`checksum mismatch: header 0x${checksum.toString(16).padStart(8, '0')}, payload 0x${actual.toString(16).padStart(8, '0')}`)
  let body: Uint8Array = payload
  if ((flags & Flag.CHUNKED) !== 0) {
    if (payload.length < CHUNK_HEADER_SIZE) {
      problems.push('CHUNKED, but shorter than the chunk header')
      return result
    }
    const { messageId, index, count, data } = readChunkHeader(payload)
    result.chunk = { messageId, index, count, dataBytes: data.length }
    if (count !== 1) {
      problems.push(`chunk ${index + 1} of ${count}: the body needs every chunk`)
      return result
    }
    body = data
  }
  if ((flags & Flag.COMPRESSED) !== 0) {
    const algorithm: CompressionAlgorithm = body[0] === 0x1f && body[1] === 0x8b ? 'gzip' : 'deflate'
    result.compression = algorithm
    try {
      body = await nodePlatform.decompress(algorithm, body, 256 * 1024 * 1024)
    } catch (err) {
      problems.push((err as Error).message)
      return result
    }
  }
  result.bodyBytes = body.length
  if (body.length === 0) return result
  // A msgpack-compact body (version 3, EVENT/REQUEST/RESPONSE) is an array where a messagepack
  // envelope is a map (PROTOCOL.md 9.2).
  const first = body[0] as number
  if (version === 3 && isCompactType(type) && ((first >= 0x90 && first <= 0x9f) || first === 0xdc || first === 0xdd)) {
    result.encoding = 'msgpack-compact'
    if (options.layout === undefined) result.note = 'a msgpack-compact body, shown by position: --protocol <file> names its event and fields'
    try {
      result.body = options.layout === undefined
        ? createMessagePackCodec().decode(body)
        : createCompactCodec(options.layout).decodeEnvelope(type, body, Math.floor((timestamp ?? 0) / 1000))
    } catch (err) {
      problems.push((err as Error).message)
    }
    return result
  }
  result.encoding = first === 0x7b ? 'json' : 'messagepack'
  try {
    result.body = (result.encoding === 'json' ? createJsonCodec() : createMessagePackCodec()).decode(body)
  } catch (err) {
    problems.push((err as Error).message)
  }
  return result
}

/** A readable report of an inspection. */
export function formatInspection (r: Inspection): string {
  const lines: string[] = [`transport   ${r.transport}`]
  if (r.header !== undefined) {
    const h = r.header
    lines.push(
      `version     ${h.version}`,
      `type        0x${h.type.toString(16).padStart(2, '0')} ${h.typeName ?? '(unknown)'}`,
      `flags       0x${h.flags.toString(16).padStart(2, '0')} ${h.flagNames.join(' | ') || '(none)'}`,
      `length      ${h.length}`,
      `checksum    0x${h.checksum.toString(16).padStart(8, '0')} ${h.checksumOk ? 'ok' : 'MISMATCH'}`
    )
    if (h.timestampMicros !== undefined) lines.push(`timestamp   ${h.timestampMicros} µs${h.timestampIso === undefined ? '' : ` (${h.timestampIso})`}`)
  }
  if (r.chunk !== undefined) lines.push(`chunk       message ${r.chunk.messageId}, ${r.chunk.index + 1} of ${r.chunk.count}, ${r.chunk.dataBytes} bytes`)
  if (r.compression !== undefined) lines.push(`compression ${r.compression}`)
  if (r.bodyBytes !== undefined) lines.push(`body        ${r.bodyBytes} bytes${r.encoding === undefined ? '' : `, ${r.encoding}`}`)
  if (r.note !== undefined) lines.push(`note        ${r.note}`)
  if (r.body !== undefined) lines.push(JSON.stringify(r.body, jsonReplacer, 2))
  for (const p of r.problems) lines.push(`PROBLEM     ${p}`)
  return lines.join('\n')
}

/** A JSON.stringify replacer for decoded values: Dates, typed arrays and BigInts readable. */
export function jsonReplacer (this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  if (original instanceof Date) return { __datetime__: original.toISOString() }
  if (ArrayBuffer.isView(original)) return { [original.constructor.name]: Array.from(original as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? String(x) : x)) }
  if (typeof value === 'bigint') return String(value)
  return value
}
