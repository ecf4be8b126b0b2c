/**
 * The byte reader of msgpack-compact bodies (PROTOCOL.md section 9): the layout's nodes read
 * their wire forms straight into values, with no intermediate arrays. Scalars (nil, booleans,
 * integers, floats, strings) are read here as the `messagepack` codec reads them; anything else
 * (maps, arrays outside the layout, bin, extensions, integers beyond 2^53) is handed, as its
 * bytes, to the messagepack codec, which checks and decodes it. Pure code: the browser client
 * bundles it.
 */
import type { Codec } from '../codec.js'
import { errors } from '../../errors.js'

// ignoreBOM: a string that starts with U+FEFF keeps it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

function truncated (pos: number): never {
  throw new errors.WIREBOX_ERR_DECODE_FAILED('MessagePack', `unexpected end of data at byte ${pos}`)
}

const EMPTY = new Uint8Array(0)
const EMPTY_VIEW = new DataView(EMPTY.buffer)

/** Reads one body at a time (not re-entrant: a codec keeps one). */
export class CompactReader {
  #bytes: Uint8Array = EMPTY
  #view: DataView = EMPTY_VIEW
  /** The next byte to read. */
  pos = 0
  readonly #plain: Codec

  /** `plain`: the messagepack codec, for the values it decodes. */
  constructor (plain: Codec) {
    this.#plain = plain
  }

  /** Starts reading `bytes`. */
  reset (bytes: Uint8Array): void {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.pos = 0
  }

  /** Lets go of the bytes read last. */
  release (): void {
    this.#bytes = EMPTY
    this.#view = EMPTY_VIEW
  }

  /** True when every byte has been read. */
  get done (): boolean {
    return this.pos === this.#bytes.length
  }

  /** The next byte, not consumed (-1 at the end). */
  peek (): number {
    return this.pos < this.#bytes.length ? this.#bytes[this.pos] as number : -1
  }

  /** Consumes a nil when one comes next. */
  nil (): boolean {
    if (this.#bytes[this.pos] !== 0xc0) return false
    this.pos++
    return true
  }

  /** The item count of an array header coming next, consumed; -1 (nothing consumed) for anything else. */
  array (): number {
    const t = this.peek()
    if (t >= 0x90 && t <= 0x9f) {
      this.pos++
      return t & 0x0f
    }
    if (t === 0xdc) return this.#length(1, 2)
    if (t === 0xdd) return this.#length(1, 4)
    return -1
  }

  /** The bytes of a bin coming next, consumed (a view, not a copy); undefined for anything else. */
  bin (): Uint8Array | undefined {
    const t = this.peek()
    if (t < 0xc4 || t > 0xc6) return undefined
    const n = this.#length(1, 1 << (t - 0xc4))
    const start = this.pos
    this.pos += n
    if (this.pos > this.#bytes.length) truncated(this.#bytes.length)
    return this.#bytes.subarray(start, this.pos)
  }

  /** Reads a big-endian length of `size` bytes after `skip` bytes, and moves past it (not past what it counts). */
  #length (skip: number, size: number): number {
    const at = this.pos + skip
    if (at + size > this.#bytes.length) truncated(this.#bytes.length)
    const n = size === 1 ? this.#view.getUint8(at) : size === 2 ? this.#view.getUint16(at) : this.#view.getUint32(at)
    this.pos = at + size
    return n
  }

  /** The next value, as the messagepack codec decodes it. */
  value (): unknown {
    const b = this.#bytes
    const t = this.peek()
    if (t < 0) truncated(this.pos)
    if (t <= 0x7f) {
      this.pos++
      return t
    }
    if (t >= 0xe0) {
      this.pos++
      return t - 0x100
    }
    if (t >= 0xa0 && t <= 0xbf) return this.#string(1, t & 0x1f)
    const v = this.#view
    const at = this.pos + 1
    switch (t) {
      case 0xc0: this.pos = at; return null
      case 0xc2: this.pos = at; return false
      case 0xc3: this.pos = at; return true
      case 0xcc: this.#need(1); this.pos = at + 1; return b[at]
      case 0xcd: this.#need(2); this.pos = at + 2; return v.getUint16(at)
      case 0xce: this.#need(4); this.pos = at + 4; return v.getUint32(at)
      case 0xd0: this.#need(1); this.pos = at + 1; return v.getInt8(at)
      case 0xd1: this.#need(2); this.pos = at + 2; return v.getInt16(at)
      case 0xd2: this.#need(4); this.pos = at + 4; return v.getInt32(at)
      case 0xca: this.#need(4); this.pos = at + 4; return v.getFloat32(at)
      case 0xcb: this.#need(8); this.pos = at + 8; return v.getFloat64(at)
      case 0xcf: case 0xd3: {
        this.#need(8)
        const value = (t === 0xd3 ? v.getInt32(at) : v.getUint32(at)) * 0x100000000 + v.getUint32(at + 4)
        if (Number.isSafeInteger(value)) {
          this.pos = at + 8
          return value
        }
        break // beyond 2^53: BigInt or refused, as the messagepack codec decides
      }
      case 0xd9: this.#need(1); return this.#string(2, b[at] as number)
      case 0xda: this.#need(2); return this.#string(3, v.getUint16(at))
      case 0xdb: this.#need(4); return this.#string(5, v.getUint32(at))
    }
    const start = this.pos
    this.#skip()
    return this.#plain.decode(b.subarray(start, this.pos))
  }

  /** Throws unless `n` bytes follow the type byte. */
  #need (n: number): void {
    if (this.pos + 1 + n > this.#bytes.length) truncated(this.#bytes.length)
  }

  #string (header: number, length: number): string {
    const b = this.#bytes
    const start = this.pos + header
    const end = start + length
    if (end > b.length) truncated(b.length)
    this.pos = end
    if (length < 24) {
      let s = ''
      for (let i = start; i < end; i++) {
        const c = b[i] as number
        if (c >= 0x80) return utf8.decode(b.subarray(start, end))
        s += String.fromCharCode(c)
      }
      return s
    }
    return utf8.decode(b.subarray(start, end))
  }

  /** Moves past one value of any type (its bytes then go to the messagepack codec, which checks them). */
  #skip (): void {
    const n = this.#bytes.length
    let left = 1
    while (left > 0) {
      if (this.pos >= n) truncated(n)
      left--
      const t = this.#bytes[this.pos] as number
      if (t <= 0x7f || t >= 0xe0 || (t >= 0xc0 && t <= 0xc3)) {
        this.pos++
      } else if (t <= 0x8f) {
        this.pos++
        left += (t & 0x0f) * 2
      } else if (t <= 0x9f) {
        this.pos++
        left += t & 0x0f
      } else if (t <= 0xbf) {
        this.pos += 1 + (t & 0x1f)
      } else if (t >= 0xc4 && t <= 0xc6) {
        const length = this.#length(1, 1 << (t - 0xc4))
        this.pos += length
      } else if (t >= 0xc7 && t <= 0xc9) {
        const length = this.#length(1, 1 << (t - 0xc7))
        this.pos += length + 1 // the type byte, then the data
      } else if (t >= 0xca && t <= 0xd3) {
        this.pos += 1 + (SCALAR_SIZE[t - 0xca] as number)
      } else if (t >= 0xd4 && t <= 0xd8) {
        this.pos += 2 + (1 << (t - 0xd4))
      } else if (t >= 0xd9 && t <= 0xdb) {
        const length = this.#length(1, 1 << (t - 0xd9))
        this.pos += length
      } else if (t === 0xdc || t === 0xdd) {
        left += this.#length(1, t === 0xdc ? 2 : 4) // counts fit the bytes: the guard checked them
      } else {
        left += this.#length(1, t === 0xde ? 2 : 4) * 2
      }
    }
    if (this.pos > n) truncated(n)
  }
}

// Bytes after the type byte of float 32/64, uint 8-64 and int 8-64 (0xca-0xd3).
const SCALAR_SIZE = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8]
