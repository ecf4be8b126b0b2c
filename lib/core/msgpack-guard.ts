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

function same (b: Uint8Array, at: number, len: number, name: Uint8Array): boolean {
  if (len !== name.length) return false
  for (let i = 0; i < len; i++) if (b[at + i] !== name[i]) return false
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
    const n = b.length
    const left = this.#left
    const isMap = this.#isMap
    const inConstructor = this.#inConstructor
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
    let pos = 0
    let depth = 0
    let result = 0
    let valueOfConstructor = false
    left[0] = 1
    isMap[0] = 0

    const fail = (reason: string): never => {
      throw new errors.WIREBOX_ERR_DECODE_FAILED('MessagePack', `${reason} at byte ${pos}`)
    }
    const need = (k: number): void => {
      if (pos + k > n) fail('unexpected end of data')
    }
    const open = (count: number, map: boolean, ofConstructor: boolean): void => {
      if (depth + 1 > this.#maxDepth) throw new errors.WIREBOX_ERR_TOO_DEEP(this.#maxDepth)
      const items = map ? count * 2 : count
      // Every item takes at least one byte: a count beyond the bytes left is a lie.
      if (items > n - pos) fail(`${map ? 'map' : 'array'} of ${count} entries cannot fit in ${n - pos} bytes`)
      depth++
      left[depth] = items
      isMap[depth] = map ? 1 : 0
      inConstructor[depth] = map && ofConstructor ? 1 : 0
    }
    const skip = (k: number): void => {
      need(k)
      pos += k
    }

    for (;;) {
      while (left[depth] === 0) {
        if (depth === 0) {
          if (pos !== n) fail(`${n - pos} trailing bytes`)
          return result
        }
        depth--
      }
      if (pos >= n) fail('unexpected end of data')
      const isKey = isMap[depth] === 1 && ((left[depth] as number) & 1) === 0
      left[depth] = (left[depth] as number) - 1
      const t = b[pos++] as number

      if (isKey) {
        let len = -1
        if (t >= 0xa0 && t <= 0xbf) len = t & 0x1f
        else if (t === 0xd9) { need(1); len = view.getUint8(pos); pos += 1 } else if (t === 0xda) { need(2); len = view.getUint16(pos); pos += 2 } else if (t === 0xdb) { need(4); len = view.getUint32(pos); pos += 4 } else if (t <= 0x7f || t >= 0xe0) { valueOfConstructor = false; continue } else if (t >= 0xcc && t <= 0xd3) {
          skip(t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 ? 4 : 8)
          valueOfConstructor = false
          continue
        } else fail('map key is neither a string nor an integer')
        need(len)
        if (same(b, pos, len, PROTO)) throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('__proto__')
        if (inConstructor[depth] === 1 && same(b, pos, len, PROTOTYPE)) throw new errors.WIREBOX_ERR_FORBIDDEN_KEY('constructor.prototype')
        valueOfConstructor = same(b, pos, len, CONSTRUCTOR)
        if (same(b, pos, len, NDARRAY)) result |= HAS_NDARRAY
        pos += len
        continue
      }

      const ofConstructor = valueOfConstructor
      valueOfConstructor = false
      if (t <= 0x7f || t >= 0xe0) continue
      if (t <= 0x8f) { open(t & 0x0f, true, ofConstructor); continue }
      if (t <= 0x9f) { open(t & 0x0f, false, ofConstructor); continue }
      if (t <= 0xbf) { skip(t & 0x1f); continue }
      switch (t) {
        case 0xc0: case 0xc2: case 0xc3: break
        case 0xc1: fail('byte 0xc1 is never used'); break
        case 0xc4: need(1); skip(view.getUint8(pos++)); break
        case 0xc5: need(2); pos += 2; skip(view.getUint16(pos - 2)); break
        case 0xc6: need(4); pos += 4; skip(view.getUint32(pos - 4)); break
        case 0xc7: need(2); pos += 2; this.#extension(view.getInt8(pos - 1), view.getUint8(pos - 2), fail); skip(view.getUint8(pos - 2)); break
        case 0xc8: need(3); pos += 3; this.#extension(view.getInt8(pos - 1), view.getUint16(pos - 3), fail); skip(view.getUint16(pos - 3)); break
        case 0xc9: need(5); pos += 5; this.#extension(view.getInt8(pos - 1), view.getUint32(pos - 5), fail); skip(view.getUint32(pos - 5)); break
        case 0xca: skip(4); break
        case 0xcb: skip(8); break
        case 0xcc: case 0xd0: skip(1); break
        case 0xcd: case 0xd1: skip(2); break
        case 0xce: case 0xd2: skip(4); break
        case 0xcf:
          need(8)
          if (!this.#bigint && view.getUint32(pos) >= TWO_POW_21) {
            throw new errors.WIREBOX_ERR_UNSAFE_INTEGER(view.getBigUint64(pos))
          }
          pos += 8
          break
        case 0xd3: {
          need(8)
          const hi = view.getInt32(pos)
          const safe = hi < TWO_POW_21 && (hi > -TWO_POW_21 || (hi === -TWO_POW_21 && view.getUint32(pos + 4) !== 0))
          if (!this.#bigint && !safe) throw new errors.WIREBOX_ERR_UNSAFE_INTEGER(view.getBigInt64(pos))
          pos += 8
          break
        }
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
          const len = 1 << (t - 0xd4)
          need(1)
          this.#extension(view.getInt8(pos), len, fail)
          skip(1 + len)
          break
        }
        case 0xd9: need(1); skip(view.getUint8(pos++)); break
        case 0xda: need(2); pos += 2; skip(view.getUint16(pos - 2)); break
        case 0xdb: need(4); pos += 4; skip(view.getUint32(pos - 4)); break
        case 0xdc: need(2); pos += 2; open(view.getUint16(pos - 2), false, false); break
        case 0xdd: need(4); pos += 4; open(view.getUint32(pos - 4), false, false); break
        case 0xde: need(2); pos += 2; open(view.getUint16(pos - 2), true, ofConstructor); break
        case 0xdf: need(4); pos += 4; open(view.getUint32(pos - 4), true, ofConstructor); break
      }
    }
  }

  #extension (type: number, length: number, fail: (reason: string) => never): void {
    if (type !== -1) throw new errors.WIREBOX_ERR_UNSUPPORTED_EXTENSION(type)
    if (length !== 4 && length !== 8 && length !== 12) fail(`timestamp extension of ${length} bytes`)
  }
}
