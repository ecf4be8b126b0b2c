/**
 * Values beyond JSON's and MessagePack's basic types, and how they travel:
 *
 * | value            | MessagePack                                  | JSON                                          |
 * |------------------|----------------------------------------------|-----------------------------------------------|
 * | Date             | timestamp extension -1                       | `{"__datetime__": "<ISO 8601>"}`              |
 * | Uint8Array       | bin                                          | `{"__bytes__": "<base64>"}`                   |
 * | other TypedArray | `{__ndarray__: bin, dtype, shape: [n]}` map  | `{"__ndarray__": "<base64>", dtype, shape}`   |
 * | BigInt (enabled) | int 64 / uint 64                             | `{"__bigint__": "<decimal>"}`                 |
 *
 * ndarray bytes are the elements in little-endian order. This module has the tables and the
 * walkers that apply them; the codecs call it.
 */
import { errors } from '../errors.js'
import { DTYPE_TABLE, dtypeInfo } from './dtypes.js'
import type { NumericArray, NumericArrayClass } from './dtypes.js'

export type { NumericArray } from './dtypes.js'

/** dtype names (NumPy's) and the typed array each stands for (from DTYPE_TABLE). */
export const DTYPES: Readonly<Record<string, NumericArrayClass>> = Object.freeze(Object.fromEntries(
  Object.entries(DTYPE_TABLE).map(([name, info]) => [name, info.Class])))

const DTYPE_OF = new Map<unknown, string>(Object.entries(DTYPES).map(([name, Class]) => [Class, name]))

/** The typed array classes that travel as `__ndarray__`. */
export const NDARRAY_CLASSES: readonly NumericArrayClass[] = Object.values(DTYPES)

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays are sent as their memory; a big-endian host would send the wrong bytes.
  throw new Error('fastify-wirebox needs a little-endian host')
}

/** The `__ndarray__` map for a typed array; `bytes` is a view of its memory (no copy). */
export function ndarrayToTagged (array: NumericArray): { __ndarray__: Uint8Array, dtype: string, shape: number[] } {
  return {
    __ndarray__: new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
    dtype: DTYPE_OF.get(array.constructor) as string,
    shape: [array.length]
  }
}

/** Builds a typed array from the fields of an `__ndarray__` map; copies the bytes (alignment). */
export function taggedToNdarray (bytes: unknown, dtype: unknown, shape: unknown): NumericArray {
  const info = dtypeInfo(dtype)
  if (info === undefined) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE('__ndarray__', `unknown dtype ${String(dtype)}`)
  if (!(bytes instanceof Uint8Array)) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE('__ndarray__', 'data is not bytes')
  if (!Array.isArray(shape) || shape.length !== 1 || !Number.isSafeInteger(shape[0])) {
    throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE('__ndarray__', 'shape must be [length] (one dimension)')
  }
  const length = shape[0] as number
  if (bytes.length !== length * info.bytesPerElement) {
    throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE('__ndarray__', `${bytes.length} bytes do not hold ${length} ${dtype} values`)
  }
  // Uint8Array's slice copies (Buffer's would not): a fresh, aligned buffer of its own.
  const copy = Uint8Array.prototype.slice.call(bytes)
  return new info.Class(copy.buffer, 0, length)
}

interface BufferLike { toString (encoding: string): string }
const nodeBuffer = (globalThis as {
  Buffer?: { from(data: string, encoding: string): Uint8Array, from(data: ArrayBufferLike, offset: number, length: number): BufferLike }
}).Buffer
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Int16Array(128).fill(-1)
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i

/**
 * True when `text` is standard base64 with padding: a length that is a multiple of 4, alphabet
 * characters, and one or two `=` only at the end. One pass over the characters; a regular
 * expression here backtracked once per 4-character group and overflowed the stack on a few MiB.
 */
function isBase64 (text: string): boolean {
  const length = text.length
  if (length % 4 !== 0) return false
  let end = length
  if (length > 0 && text.charCodeAt(length - 1) === 61) end = text.charCodeAt(length - 2) === 61 ? length - 2 : length - 1
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c > 127 || (B64_INDEX[c] as number) < 0) return false
  }
  return true
}

/** Standard base64 (RFC 4648, with padding). */
export function toBase64 (bytes: Uint8Array): string {
  if (nodeBuffer !== undefined) return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + B64.charAt((n >> 6) & 63) + B64.charAt(n & 63)
  }
  if (i < bytes.length) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8)
    out += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + (i + 1 < bytes.length ? B64.charAt((n >> 6) & 63) : '=') + '='
  }
  return out
}

/** Decodes standard padded base64; returns undefined when `text` is anything else (see isBase64). */
export function fromBase64 (text: string): Uint8Array | undefined {
  if (!isBase64(text)) return undefined
  if (nodeBuffer !== undefined) return new Uint8Array(nodeBuffer.from(text, 'base64'))
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const n = ((B64_INDEX[text.charCodeAt(i)] as number) << 18) | ((B64_INDEX[text.charCodeAt(i + 1)] as number) << 12) |
      (((B64_INDEX[text.charCodeAt(i + 2)] as number) & 63) << 6) | ((B64_INDEX[text.charCodeAt(i + 3)] as number) & 63)
    out[o++] = n >> 16
    if (o < out.length) out[o++] = (n >> 8) & 255
    if (o < out.length) out[o++] = n & 255
  }
  return out
}

/** Options of the walkers. */
export interface WalkOptions {
  maxDepth: number
  bigint: boolean
}

// Wrapped strings are checked for length before anything reads them, so a check costs no more
// than the few characters a valid value can have, whatever the size of the message.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const UUID_LENGTH = 36
const BIGINT = /^-?\d{1,400}$/
const MAX_BIGINT_LENGTH = 401
/** Room for any ISO 8601 date-time a clock writes (`+275760-09-13T00:00:00.000000000+00:00` has 38). */
const MAX_DATETIME_LENGTH = 64
const TWO_POW_53 = 2 ** 53
const TWO_POW_64 = 2 ** 64

function isPlainObject (value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * After MessagePack decoding (when the guard saw an `__ndarray__` key): replaces `__ndarray__`
 * maps by typed arrays, in place. The guard has already checked depth and keys; `seen` is given
 * only for msgpackr's structured clones, which may be cyclic.
 */
export function reviveNdarrays (value: unknown, seen?: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (seen !== undefined) {
    if (seen.has(value)) return value
    seen.add(value)
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveNdarrays(value[i], seen)
    return value
  }
  if (!isPlainObject(value)) return value
  if (Object.hasOwn(value, '__ndarray__')) return reviveNdarrayMap(value)
  for (const key of Object.keys(value)) value[key] = reviveNdarrays(value[key], seen)
  return value
}

function reviveNdarrayMap (value: Record<string, unknown>): NumericArray {
  const keys = Object.keys(value)
  if (keys.length !== 3 || !Object.hasOwn(value, 'dtype') || !Object.hasOwn(value, 'shape')) {
    throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE('__ndarray__', 'expected exactly the keys __ndarray__, dtype and shape')
  }
  return taggedToNdarray(value.__ndarray__, value.dtype, value.shape)
}

/**
 * After `JSON.parse`: checks nesting depth, forbidden keys (`__proto__`, `constructor.prototype`)
 * and integers in the 64-bit range beyond ±(2^53-1), and replaces the tagged wrappers by their
 * values, in place. Throws catalog errors.
 */
export function reviveJson (value: unknown, options: WalkOptions, depth = 0): unknown {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) >= TWO_POW_53 && Math.abs(value) <= TWO_POW_64) {
      throw new errors.WIREBOX_ERR_UNSAFE_INTEGER(value)
    }
    return value
  }
  if (typeof value !== 'object' || value === null) return value
  if (depth >= options.maxDepth) throw new errors.WIREBOX_ERR_TOO_DEEP(options.maxDepth)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveJson(value[i], options, depth + 1)
    return value
  }
  const object = value as Record<string, unknown>
  const keys = Object.keys(object)
  for (const key of keys) {
    if (key === '__proto__') throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('__proto__')
    const child = object[key]
    if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) {
      throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('constructor.prototype')
    }
    if (key.length > 6 && key.charCodeAt(0) === 95 && key.charCodeAt(1) === 95) {
      const tagged = reviveWrapper(key, object, keys.length, options)
      if (tagged !== NOT_A_WRAPPER) return tagged
    }
  }
  for (const key of keys) object[key] = reviveJson(object[key], options, depth + 1)
  return object
}

const NOT_A_WRAPPER = Symbol('not a wrapper')

function reviveWrapper (key: string, object: Record<string, unknown>, size: number, options: WalkOptions): unknown {
  const inner = object[key]
  const single = (): void => {
    if (size !== 1) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, `a ${key} wrapper has exactly one key`)
  }
  switch (key) {
    case '__datetime__': {
      single()
      const date = typeof inner === 'string' && inner.length <= MAX_DATETIME_LENGTH ? new Date(inner) : undefined
      if (date === undefined || Number.isNaN(date.getTime())) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, 'not an ISO 8601 date')
      return date
    }
    case '__bytes__': {
      single()
      const bytes = typeof inner === 'string' ? fromBase64(inner) : undefined
      if (bytes === undefined) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, 'not base64')
      return bytes
    }
    case '__ndarray__': {
      const bytes = typeof inner === 'string' ? fromBase64(inner) : undefined
      if (bytes === undefined) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, 'data is not base64')
      return reviveNdarrayMap({ ...object, __ndarray__: bytes })
    }
    case '__bigint__': {
      single()
      if (typeof inner !== 'string' || inner.length > MAX_BIGINT_LENGTH || !BIGINT.test(inner)) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, 'not a decimal integer')
      const big = BigInt(inner)
      if (big >= -(2n ** 53n) + 1n && big <= 2n ** 53n - 1n) return Number(big)
      if (!options.bigint) throw new errors.WIREBOX_ERR_UNSAFE_INTEGER(inner)
      return big
    }
    case '__uuid__': {
      single()
      if (typeof inner !== 'string' || inner.length !== UUID_LENGTH || !UUID.test(inner)) throw new errors.WIREBOX_ERR_INVALID_TAGGED_VALUE(key, 'not a UUID')
      return inner.toLowerCase()
    }
    default:
      return NOT_A_WRAPPER
  }
}

/**
 * Before `JSON.stringify`: returns `value` itself when it holds nothing JSON cannot carry, else a
 * copy with Dates, bytes, typed arrays and BigInts replaced by their wrappers (copy on write:
 * only the containers on the way to a replaced value are copied). Throws WIREBOX_ERR_ENCODE_FAILED
 * for values nested deeper than `maxDepth` (cycles included) and for BigInts when not enabled.
 */
export function toJsonValue (value: unknown, options: WalkOptions, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'bigint') return bigintToJson(value, options)
    return value
  }
  if (depth >= options.maxDepth) throw new errors.WIREBOX_ERR_ENCODE_FAILED('JSON', `nested deeper than ${options.maxDepth} levels (or cyclic)`)
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const out = toJsonValue(item, options, depth + 1)
      if (out !== item) {
        copy ??= value.slice()
        copy[i] = out
      }
    }
    return copy ?? value
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new errors.WIREBOX_ERR_ENCODE_FAILED('JSON', 'invalid Date')
    return { __datetime__: value.toISOString() }
  }
  if (ArrayBuffer.isView(value)) {
    if (value instanceof Uint8Array) return { __bytes__: toBase64(value) }
    if (DTYPE_OF.has(value.constructor)) {
      const tagged = ndarrayToTagged(value as NumericArray)
      return { __ndarray__: toBase64(tagged.__ndarray__), dtype: tagged.dtype, shape: tagged.shape }
    }
    throw new errors.WIREBOX_ERR_ENCODE_FAILED('JSON', 'DataView is not supported')
  }
  // As msgpackr writes them without its extensions: a Map as a map, a Set as an array.
  if (value instanceof Map) return toJsonValue(Object.fromEntries(value), options, depth)
  if (value instanceof Set) return toJsonValue(Array.from(value), options, depth)
  const object = value as Record<string, unknown>
  let copy: Record<string, unknown> | undefined
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue
    const item = object[key]
    const out = toJsonValue(item, options, depth + 1)
    if (out !== item) {
      copy ??= { ...object }
      copy[key] = out
    }
  }
  return copy ?? object
}

function bigintToJson (value: bigint, options: WalkOptions): number | { __bigint__: string } {
  if (value >= -(2n ** 53n) + 1n && value <= 2n ** 53n - 1n) return Number(value)
  if (!options.bigint) throw new errors.WIREBOX_ERR_ENCODE_FAILED('JSON', 'BigInt outside the safe range and BigInt is not enabled')
  return { __bigint__: value.toString() }
}
