/**
 * A structural check of MessagePack bytes before msgpackr sees them: one pass, no allocation,
 * no recursion. It enforces what msgpackr alone does not: exactly one well-formed value with no
 * trailing bytes; container counts that fit in the bytes left (so a chain of huge array headers
 * cannot make the decoder allocate); nesting at most `maxDepth`; map keys that are strings or
 * integers, never `__proto__` nor `prototype` inside a `constructor` map; no extension type but
 * the standard timestamp (-1); 64-bit integers within ±(2^53-1) unless BigInt is enabled.
 */
import { errors } from '../errors.js'

/** Bit set in `check`'s result when a map has the `__ndarray__` key (the body needs reviving). */
export const HAS_NDARRAY = 1

const PROTO = bytesOf('__proto__')
const CONSTRUCTOR = bytesOf('constructor')
const PROTOTYPE = bytesOf('prototype')
const NDARRAY = bytesOf('__ndarray__')

function bytesOf (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

/** True when the bytes at `at` are `name` (the caller has checked the length). */
function same (b: Uint8Array, at: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if (b[at + i] !== name[i]) return false
  return true
}

const TWO_POW_21 = 0x200000 // high word of 2^53

/** Validates MessagePack bodies for one codec; reuses its stacks across calls (not re-entrant). */
export class MessagePackGuard {
  readonly #maxDepth: number
  readonly #bigint: boolean
  // Per nesting level: items still to read (a map counts key and value), map or array, and
  // whether the map is the value of a "constructor" key.
  readonly #left: Float64Array
  readonly #isMap: Uint8Array
  readonly #inConstructor: Uint8Array

  constructor (maxDepth: number, bigint: boolean) {
    this.#maxDepth = maxDepth
    this.#bigint = bigint
    this.#left = new Float64Array(maxDepth + 1)
    this.#isMap = new Uint8Array(maxDepth + 1)
    this.#inConstructor = new Uint8Array(maxDepth + 1)
  }

  /** Throws a catalog error when `b` is not one acceptable MessagePack value; else returns flags. */
  check (b: Uint8Array): number {
    // Hot path: locals only, no closures, no DataView; lengths read by hand (big-endian).
    const n = b.length
    const left = this.#left
    const isMap = this.#isMap
    const inConstructor = this.#inConstructor
    let pos = 0
    let depth = 0
    let result = 0
    let valueOfConstructor = false
    left[0] = 1
    isMap[0] = 0

    for (;;) {
      while (left[depth] === 0) {
        if (depth === 0) {
          if (pos !== n) fail(`${n - pos} trailing bytes`, pos)
          return result
        }
        depth--
      }
      if (pos >= n) fail('unexpected end of data', pos)
      const isKey = isMap[depth] === 1 && ((left[depth] as number) & 1) === 0
      left[depth] = (left[depth] as number) - 1
      const t = b[pos++] as number

      if (isKey) {
        let len: number
        if (t >= 0xa0 && t <= 0xbf) len = t & 0x1f
        else if (t === 0xd9) { len = readUint(b, pos, 1, n); pos += 1 } else if (t === 0xda) { len = readUint(b, pos, 2, n); pos += 2 } else if (t === 0xdb) { len = readUint(b, pos, 4, n); pos += 4 } else if (t <= 0x7f || t >= 0xe0) { valueOfConstructor = false; continue } else if (t >= 0xcc && t <= 0xd3) {
          pos += INT_SIZE[t & 3] as number
          if (pos > n) fail('unexpected end of data', n)
          valueOfConstructor = false
          continue
        } else fail('map key is neither a string nor an integer', pos - 1)
        if (pos + len > n) fail('unexpected end of data', n)
        if (len === 9) {
          if (same(b, pos, PROTO)) throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('__proto__')
          if (inConstructor[depth] === 1 && same(b, pos, PROTOTYPE)) throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('constructor.prototype')
          valueOfConstructor = false
        } else if (len === 11) {
          valueOfConstructor = same(b, pos, CONSTRUCTOR)
          if (!valueOfConstructor && same(b, pos, NDARRAY)) result |= HAS_NDARRAY
        } else {
          valueOfConstructor = false
        }
        pos += len
        continue
      }

      const ofConstructor = valueOfConstructor
      valueOfConstructor = false
      if (t <= 0x7f || t >= 0xe0) continue
      let count = -1 // a container's entry count, when t opens one
      let map = false
      if (t <= 0x8f) { count = t & 0x0f; map = true } else if (t <= 0x9f) count = t & 0x0f
      else if (t <= 0xbf) pos += t & 0x1f
      else {
        switch (t) {
          case 0xc0: case 0xc2: case 0xc3: break
          case 0xc1: fail('byte 0xc1 is never used', pos - 1); break
          case 0xc4: pos += 1 + readUint(b, pos, 1, n); break
          case 0xc5: pos += 2 + readUint(b, pos, 2, n); break
          case 0xc6: pos += 4 + readUint(b, pos, 4, n); break
          case 0xc7: case 0xc8: case 0xc9: {
            const size = 1 << (t - 0xc7) // 1, 2 or 4 length bytes, then the type
            const len = readUint(b, pos, size, n)
            if (pos + size >= n) fail('unexpected end of data', n)
            this.#extension(b[pos + size] as number, len, pos)
            pos += size + 1 + len
            break
          }
          case 0xca: pos += 4; break
          case 0xcb: pos += 8; break
          case 0xcc: case 0xd0: pos += 1; break
          case 0xcd: case 0xd1: pos += 2; break
          case 0xce: case 0xd2: pos += 4; break
          case 0xcf: case 0xd3:
            if (pos + 8 > n) fail('unexpected end of data', n)
            if (!this.#bigint) checkSafe(b, pos, t === 0xd3)
            pos += 8
            break
          case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
            const len = 1 << (t - 0xd4)
            if (pos >= n) fail('unexpected end of data', n)
            this.#extension(b[pos] as number, len, pos)
            pos += 1 + len
            break
          }
          case 0xd9: pos += 1 + readUint(b, pos, 1, n); break
          case 0xda: pos += 2 + readUint(b, pos, 2, n); break
          case 0xdb: pos += 4 + readUint(b, pos, 4, n); break
          case 0xdc: count = readUint(b, pos, 2, n); pos += 2; break
          case 0xdd: count = readUint(b, pos, 4, n); pos += 4; break
          case 0xde: count = readUint(b, pos, 2, n); pos += 2; map = true; break
          case 0xdf: count = readUint(b, pos, 4, n); pos += 4; map = true; break
        }
      }
      if (pos > n) fail('unexpected end of data', n)
      if (count < 0) continue
      if (depth + 1 > this.#maxDepth) throw new errors.WIREBOX_ERR_TOO_DEEP(this.#maxDepth)
      const items = map ? count * 2 : count
      // Every item takes at least one byte: a count beyond the bytes left is a lie.
      if (items > n - pos) fail(`${map ? 'map' : 'array'} of ${count} entries cannot fit in ${n - pos} bytes`, pos)
      depth++
      left[depth] = items
      isMap[depth] = map ? 1 : 0
      inConstructor[depth] = map && ofConstructor ? 1 : 0
    }
  }

  #extension (typeByte: number, length: number, pos: number): void {
    const type = typeByte > 127 ? typeByte - 256 : typeByte
    if (type !== -1) throw new errors.WIREBOX_ERR_UNSUPPORTED_EXTENSION(type)
    if (length !== 4 && length !== 8 && length !== 12) fail(`timestamp extension of ${length} bytes`, pos)
  }
}

// Sizes of uint 8/16/32/64 and int 8/16/32/64 (0xcc-0xd3), by the token's low two bits.
const INT_SIZE = [1, 2, 4, 8]

function fail (reason: string, pos: number): never {
  throw new errors.WIREBOX_ERR_DECODE_FAILED('MessagePack', `${reason} at byte ${pos}`)
}

/** Reads a big-endian unsigned integer of `size` (1, 2 or 4) bytes at `pos`, bounds-checked. */
function readUint (b: Uint8Array, pos: number, size: number, n: number): number {
  if (pos + size > n) fail('unexpected end of data', n)
  if (size === 1) return b[pos] as number
  if (size === 2) return ((b[pos] as number) << 8) | (b[pos + 1] as number)
  return (((b[pos] as number) << 24) >>> 0) + (((b[pos + 1] as number) << 16) | ((b[pos + 2] as number) << 8) | (b[pos + 3] as number))
}

/** Throws unless the 64-bit integer at `pos` is within ±(2^53 - 1). */
function checkSafe (b: Uint8Array, pos: number, signed: boolean): void {
  const view = new DataView(b.buffer, b.byteOffset + pos, 8)
  const hi = signed ? view.getInt32(0) : view.getUint32(0)
  const safe = hi < TWO_POW_21 && (hi > -TWO_POW_21 || (hi === -TWO_POW_21 && view.getUint32(4) !== 0))
  if (!safe) throw new errors.WIREBOX_ERR_UNSAFE_INTEGER(signed ? view.getBigInt64(0) : view.getBigUint64(0))
}
