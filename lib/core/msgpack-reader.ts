/**
 * Reads MessagePack bytes that MessagePackGuard has checked (one well-formed value, counts that
 * fit, depth within bounds, string or integer keys, no forbidden key, no extension but the
 * timestamp, 64-bit integers as the guard allows): no bounds checks of its own, one recursive
 * pass. Values as msgpackr reads them with the messagepack codec's options (maps as plain
 * objects, nil as null, bin as a view of the bytes, timestamps as Dates), but strings are UTF-8
 * as TextDecoder reads it, a leading U+FEFF kept, and a 12-byte timestamp's seconds are read as
 * the int 64 the MessagePack spec says (one beyond a Date's range is an Invalid Date). Keys seen
 * before are taken from a small cache.
 * Pure code: the browser client bundles it.
 */

/** Map keys up to this many bytes are cached. */
const MAX_CACHED_KEY = 24
/** Entries of the key cache (a power of two). */
const KEY_CACHE_SIZE = 4096

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const fromCharCode = String.fromCharCode
const EMPTY: Uint8Array = new Uint8Array(0)
// The high 32 bits of 2^53.
const HIGH_OF_2_53 = 0x200000

interface CachedKey { bytes: Uint8Array, key: string }

/** Reads one checked value; not re-entrant (one per codec, synchronous). */
export class MessagePackReader {
  readonly #bigint: boolean
  readonly #keys: Array<CachedKey | undefined> = new Array<CachedKey | undefined>(KEY_CACHE_SIZE)
  #b: Uint8Array = EMPTY
  #view: DataView | undefined
  #pos = 0

  /** `bigint`: 64-bit integers beyond ±(2^53-1) read as BigInt (the guard admits them only then). */
  constructor (bigint: boolean) {
    this.#bigint = bigint
  }

  /** The value in `bytes` (which the guard has checked). */
  read (bytes: Uint8Array): unknown {
    this.#b = bytes
    this.#view = undefined
    this.#pos = 0
    try {
      return this.#value()
    } finally {
      this.#b = EMPTY
      this.#view = undefined
    }
  }

  #dataView (): DataView {
    if (this.#view === undefined) this.#view = new DataView(this.#b.buffer, this.#b.byteOffset, this.#b.byteLength)
    return this.#view
  }

  #u16 (): number {
    const b = this.#b
    const p = this.#pos
    this.#pos = p + 2
    return ((b[p] as number) << 8) | (b[p + 1] as number)
  }

  #u32 (): number {
    const b = this.#b
    const p = this.#pos
    this.#pos = p + 4
    return ((b[p] as number) * 0x1000000) + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
  }

  #value (): unknown {
    const b = this.#b
    const t = b[this.#pos++] as number
    if (t < 0x80) return t
    if (t < 0x90) return this.#map(t & 0x0f)
    if (t < 0xa0) return this.#array(t & 0x0f)
    if (t < 0xc0) return this.#string(t & 0x1f)
    if (t >= 0xe0) return t - 0x100
    switch (t) {
      case 0xc0: return null
      case 0xc2: return false
      case 0xc3: return true
      case 0xc4: return this.#bin(b[this.#pos++] as number)
      case 0xc5: return this.#bin(this.#u16())
      case 0xc6: return this.#bin(this.#u32())
      case 0xc7: return this.#extension(b[this.#pos++] as number)
      case 0xc8: return this.#extension(this.#u16())
      case 0xc9: return this.#extension(this.#u32())
      case 0xca: {
        const value = this.#dataView().getFloat32(this.#pos)
        this.#pos += 4
        return value
      }
      case 0xcb: {
        const value = this.#dataView().getFloat64(this.#pos)
        this.#pos += 8
        return value
      }
      case 0xcc: return b[this.#pos++]
      case 0xcd: return this.#u16()
      case 0xce: return this.#u32()
      case 0xcf: return this.#int64(false)
      case 0xd0: return ((b[this.#pos++] as number) << 24) >> 24
      case 0xd1: return (this.#u16() << 16) >> 16
      case 0xd2: return this.#u32() | 0
      case 0xd3: return this.#int64(true)
      case 0xd4: return this.#extension(1)
      case 0xd5: return this.#extension(2)
      case 0xd6: return this.#extension(4)
      case 0xd7: return this.#extension(8)
      case 0xd8: return this.#extension(16)
      case 0xd9: return this.#string(b[this.#pos++] as number)
      case 0xda: return this.#string(this.#u16())
      case 0xdb: return this.#string(this.#u32())
      case 0xdc: return this.#array(this.#u16())
      case 0xdd: return this.#array(this.#u32())
      case 0xde: return this.#map(this.#u16())
      case 0xdf: return this.#map(this.#u32())
    }
    throw new Error(`MessagePack byte 0x${t.toString(16)} passed the guard`)
  }

  #array (length: number): unknown[] {
    const items = new Array<unknown>(length)
    for (let i = 0; i < length; i++) items[i] = this.#value()
    return items
  }

  #map (length: number): Record<string, unknown> {
    const object: Record<string, unknown> = {}
    for (let i = 0; i < length; i++) {
      const t = this.#b[this.#pos] as number
      // The guard admits string and integer keys; `__proto__` never reaches here.
      const key = t >= 0xa0 && t <= 0xbf ? this.#key(t & 0x1f) : t === 0xd9 ? this.#key((this.#b[++this.#pos] as number)) : String(this.#value())
      object[key] = this.#value()
    }
    return object
  }

  /** A map key of `length` bytes (its header read up to, not past, the length byte). */
  #key (length: number): string {
    const b = this.#b
    const start = ++this.#pos
    if (length > MAX_CACHED_KEY) return this.#string(length)
    // FNV-1a over the key's bytes, for the cache slot.
    let hash = 0x811c9dc5 ^ length
    for (let i = start; i < start + length; i++) hash = Math.imul(hash ^ (b[i] as number), 0x01000193)
    const slot = (hash >>> 0) & (KEY_CACHE_SIZE - 1)
    const cached = this.#keys[slot]
    if (cached !== undefined && cached.bytes.length === length) {
      const bytes = cached.bytes
      let i = 0
      while (i < length && bytes[i] === b[start + i]) i++
      if (i === length) {
        this.#pos = start + length
        return cached.key
      }
    }
    const key = this.#string(length)
    this.#keys[slot] = { bytes: b.slice(start, start + length), key }
    return key
  }

  #string (length: number): string {
    const b = this.#b
    const start = this.#pos
    const end = start + length
    this.#pos = end
    if (length < 32) {
      // Short ASCII by hand; anything else (or longer) by TextDecoder.
      let ascii = true
      for (let i = start; i < end; i++) {
        if ((b[i] as number) >= 0x80) {
          ascii = false
          break
        }
      }
      if (ascii) {
        if (length < 12) {
          let s = ''
          for (let i = start; i < end; i++) s += fromCharCode(b[i] as number)
          return s
        }
        return fromCharCode.apply(null, b.subarray(start, end) as unknown as number[])
      }
    }
    return utf8.decode(b.subarray(start, end))
  }

  #bin (length: number): Uint8Array {
    const start = this.#pos
    this.#pos = start + length
    return this.#b.subarray(start, start + length)
  }

  #int64 (signed: boolean): number | bigint {
    const view = this.#dataView()
    const hi = signed ? view.getInt32(this.#pos) : view.getUint32(this.#pos)
    const lo = view.getUint32(this.#pos + 4)
    const pos = this.#pos
    this.#pos += 8
    // As msgpackr's 'auto': a number up to ±2^53 (exact), a BigInt beyond (decided on the high
    // word: the sum of the two words rounds beyond 2^53).
    const withinNumber = (hi < HIGH_OF_2_53 || (hi === HIGH_OF_2_53 && lo === 0)) && hi >= -HIGH_OF_2_53
    if (!this.#bigint || withinNumber) return hi * 0x100000000 + lo
    return signed ? view.getBigInt64(pos) : view.getBigUint64(pos)
  }

  /** An extension of `length` bytes: the guard admits the timestamp (-1) of 4, 8 or 12 bytes. */
  #extension (length: number): Date {
    this.#pos++ // the type, -1
    const view = this.#dataView()
    const p = this.#pos
    this.#pos += length
    if (length === 4) return new Date(view.getUint32(p) * 1000)
    if (length === 8) {
      const high = view.getUint32(p)
      const nanos = high >>> 2
      const seconds = (high & 0x3) * 0x100000000 + view.getUint32(p + 4)
      return new Date(seconds * 1000 + nanos / 1e6)
    }
    const nanos = view.getUint32(p)
    const seconds = view.getInt32(p + 4) * 0x100000000 + view.getUint32(p + 8)
    return new Date(seconds * 1000 + nanos / 1e6)
  }
}
