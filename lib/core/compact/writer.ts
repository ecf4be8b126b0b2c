/**
 * The byte writer of msgpack-compact bodies (PROTOCOL.md section 9): the layout's nodes write
 * their wire forms straight into it, with no intermediate arrays. Every value is written as the
 * `messagepack` encoding (msgpackr, section 5) writes it, byte for byte: the smallest integer
 * form for 32-bit integers, float 64 for every other number, the smallest string, bin and array
 * headers; anything that is not a string, number, boolean or nil (maps, Dates, bytes, BigInts)
 * is packed by the messagepack codec and copied in. Pure code: the browser client bundles it.
 */
import { errors } from '../../errors.js'

/** Bytes of the first buffer; a message that does not fit moves to one twice its size. */
const CHUNK = 8192
/** Fresh buffers keep the size the largest message needed, up to this. */
const MAX_CHUNK = 4 * 1024 * 1024
/** Plain objects and arrays nested deeper than this are left to the messagepack codec. */
const MAX_WRITTEN_DEPTH = 32

const hasOwn = Object.prototype.hasOwnProperty

/**
 * Writes one body at a time, forward through a buffer (as msgpackr does): the bytes returned by
 * `finish` are never written again, so they stay valid without a copy. Writing is synchronous,
 * so every codec shares the one `writer` below, as msgpackr's Packr instances share theirs.
 */
export class CompactWriter {
  #buffer = new Uint8Array(0)
  #view = new DataView(this.#buffer.buffer)
  #chunk = CHUNK
  #start = 0
  /** The next byte to write. */
  pos = 0
  #pack: ((value: unknown) => Uint8Array) | undefined
  /** Between `begin` and `finish` or `abort`. */
  busy = false
  readonly #utf8 = new TextEncoder()

  /**
   * Starts a body behind `room` bytes (for the frame header); `pack` is msgpackr's packing of the
   * connection's messagepack codec (never this writer), for the values written here as it writes them.
   */
  begin (room: number, pack: (value: unknown) => Uint8Array): void {
    if (this.pos + room + 64 > this.#buffer.length) this.#replace(this.#chunk, 0)
    this.#start = this.pos
    this.pos += room
    this.#pack = pack
    this.busy = true
  }

  /** The body begun last, with its room. */
  finish (): Uint8Array {
    this.busy = false
    return this.#buffer.subarray(this.#start, this.pos)
  }

  /** Forgets the body begun last (after an error). */
  abort (): void {
    this.busy = false
    this.pos = this.#start
  }

  /** Makes room for `n` more bytes. */
  ensure (n: number): void {
    if (this.pos + n <= this.#buffer.length) return
    const size = Math.max(this.#chunk, (this.pos - this.#start + n) * 2)
    this.#chunk = Math.min(size, MAX_CHUNK)
    this.#replace(size, this.pos - this.#start)
  }

  #replace (size: number, keep: number): void {
    const next = new Uint8Array(size)
    if (keep > 0) next.set(this.#buffer.subarray(this.#start, this.#start + keep))
    this.#buffer = next
    this.#view = new DataView(next.buffer)
    this.#start = 0
    this.pos = keep
  }

  nil (): void {
    this.ensure(1)
    this.#buffer[this.pos++] = 0xc0
  }

  /** A map header of `length` entries. */
  map (length: number): void {
    this.#header(length, 0x80, 0xde)
  }

  /** An array header of `length` items. */
  array (length: number): void {
    this.#header(length, 0x90, 0xdc)
  }

  /** A container header: fixmap/fixarray below 16, else the 16-bit form (`code16`) or the 32-bit one (`code16 + 1`). */
  #header (length: number, fix: number, code16: number): void {
    this.ensure(5)
    const b = this.#buffer
    if (length < 16) {
      b[this.pos++] = fix | length
    } else if (length < 0x10000) {
      b[this.pos++] = code16
      b[this.pos++] = length >> 8
      b[this.pos++] = length & 0xff
    } else {
      b[this.pos++] = code16 + 1
      this.#view.setUint32(this.pos, length)
      this.pos += 4
    }
  }

  /** A number as msgpackr writes it: 32-bit integers in their smallest form, others float 64. */
  number (value: number): void {
    this.ensure(9)
    const b = this.#buffer
    if (value >>> 0 === value) {
      if (value < 0x80) {
        b[this.pos++] = value
      } else if (value < 0x100) {
        b[this.pos++] = 0xcc
        b[this.pos++] = value
      } else if (value < 0x10000) {
        b[this.pos++] = 0xcd
        b[this.pos++] = value >> 8
        b[this.pos++] = value & 0xff
      } else {
        b[this.pos++] = 0xce
        this.#view.setUint32(this.pos, value)
        this.pos += 4
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) {
        b[this.pos++] = 0x100 + value
      } else if (value >= -0x80) {
        b[this.pos++] = 0xd0
        b[this.pos++] = value + 0x100
      } else if (value >= -0x8000) {
        b[this.pos++] = 0xd1
        this.#view.setInt16(this.pos, value)
        this.pos += 2
      } else {
        b[this.pos++] = 0xd2
        this.#view.setInt32(this.pos, value)
        this.pos += 4
      }
    } else {
      b[this.pos++] = 0xcb
      this.#view.setFloat64(this.pos, value)
      this.pos += 8
    }
  }

  /** An integer beyond 32 bits (a safe integer) as int 64, as msgpackr writes a BigInt. */
  int64 (value: number): void {
    this.ensure(9)
    const high = Math.floor(value / 0x100000000)
    this.#buffer[this.pos++] = 0xd3
    this.#view.setInt32(this.pos, high)
    this.#view.setUint32(this.pos + 4, value - high * 0x100000000)
    this.pos += 8
  }

  /** A string: UTF-8 as msgpackr writes it (short strings by hand, lone surrogates included). */
  string (value: string): void {
    const n = value.length
    this.ensure(n * 3 + 5)
    const b = this.#buffer
    // Written behind the largest header its length may need, then moved up when shorter.
    const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
    let at = this.pos + header
    if (n < 0x40) {
      for (let i = 0; i < n; i++) {
        let c = value.charCodeAt(i)
        if (c < 0x80) {
          b[at++] = c
        } else if (c < 0x800) {
          b[at++] = c >> 6 | 0xc0
          b[at++] = c & 0x3f | 0x80
        } else if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff)
          b[at++] = c >> 18 | 0xf0
          b[at++] = c >> 12 & 0x3f | 0x80
          b[at++] = c >> 6 & 0x3f | 0x80
          b[at++] = c & 0x3f | 0x80
        } else {
          b[at++] = c >> 12 | 0xe0
          b[at++] = c >> 6 & 0x3f | 0x80
          b[at++] = c & 0x3f | 0x80
        }
      }
    } else {
      at += this.#utf8.encodeInto(value, b.subarray(at)).written
    }
    const length = at - this.pos - header
    const need = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
    if (need !== header) b.copyWithin(this.pos + need, this.pos + header, at)
    if (need === 1) {
      b[this.pos] = 0xa0 | length
    } else if (need === 2) {
      b[this.pos] = 0xd9
      b[this.pos + 1] = length
    } else if (need === 3) {
      b[this.pos] = 0xda
      b[this.pos + 1] = length >> 8
      b[this.pos + 2] = length & 0xff
    } else {
      b[this.pos] = 0xdb
      this.#view.setUint32(this.pos + 1, length)
    }
    this.pos += need + length
  }

  /** Bytes as bin 8/16/32. */
  bin (bytes: Uint8Array): void {
    const n = bytes.length
    this.ensure(n + 5)
    const b = this.#buffer
    if (n < 0x100) {
      b[this.pos++] = 0xc4
      b[this.pos++] = n
    } else if (n < 0x10000) {
      b[this.pos++] = 0xc5
      b[this.pos++] = n >> 8
      b[this.pos++] = n & 0xff
    } else {
      b[this.pos++] = 0xc6
      this.#view.setUint32(this.pos, n)
      this.pos += 4
    }
    b.set(bytes, this.pos)
    this.pos += n
  }

  /**
   * Any value, as the messagepack encoding writes it: undefined as nil, plain objects without
   * their undefined properties (msgpackr's `skipValues`), arrays item by item; everything else
   * (Dates, bytes, typed arrays, Maps, BigInts, class instances, deep nesting) is packed by the
   * messagepack codec and copied in.
   */
  value (value: unknown, depth = 0): void {
    switch (typeof value) {
      case 'string': this.string(value); return
      case 'number': this.number(value); return
      case 'boolean':
        this.ensure(1)
        this.#buffer[this.pos++] = value ? 0xc3 : 0xc2
        return
      case 'undefined': this.nil(); return
    }
    if (value === null) return this.nil()
    if (typeof value === 'object' && depth < MAX_WRITTEN_DEPTH) {
      const constructor = value.constructor
      if (constructor === Object) return this.#object(value as Record<string, unknown>, depth + 1)
      if (constructor === Array) {
        const items = value as unknown[]
        this.array(items.length)
        for (let i = 0; i < items.length; i++) this.value(items[i], depth + 1)
        return
      }
    }
    const packed = (this.#pack as (value: unknown) => Uint8Array)(value)
    this.ensure(packed.length)
    this.#buffer.set(packed, this.pos)
    this.pos += packed.length
  }

  /**
   * An envelope: a plain object whose `timestamp` and `seq` beyond 32 bits are written as int 64
   * (as msgpackr writes a BigInt), not as the float 64 of any other number beyond 32 bits.
   */
  envelope (envelope: object): void {
    if (envelope.constructor !== Object) return this.value(envelope)
    this.#object(envelope as Record<string, unknown>, 1, true)
  }

  /**
   * A plain object: its own enumerable properties in order, but those whose value is undefined;
   * with `envelopeFields`, `timestamp` and `seq` beyond 32 bits as int 64.
   */
  #object (object: Record<string, unknown>, depth: number, envelopeFields = false): void {
    let length = 0
    for (const key in object) if (hasOwn.call(object, key) && object[key] !== undefined) length++
    this.map(length)
    for (const key in object) {
      const item = object[key]
      if (item === undefined || !hasOwn.call(object, key)) continue
      // A getter that answers otherwise the second time would make the map header lie.
      if (length-- === 0) throw changed()
      this.string(key)
      if (envelopeFields && (key === 'timestamp' || key === 'seq') && typeof item === 'number' && item > 0xffffffff && Number.isSafeInteger(item)) this.int64(item)
      else this.value(item, depth)
    }
    if (length !== 0) throw changed()
  }
}

function changed (): Error {
  return new errors.WIREBOX_ERR_ENCODE_FAILED('MessagePack', 'an object changed while it was encoded')
}

/** The writer every codec shares. */
const shared = new CompactWriter()

/**
 * The shared writer, or a new one when the shared one is in the middle of a body: a getter, a
 * `toJSON` or an extension's writer that encodes another message while one is being written.
 */
export function acquireWriter (): CompactWriter {
  return shared.busy ? new CompactWriter() : shared
}
