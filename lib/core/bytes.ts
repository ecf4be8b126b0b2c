/** Byte helpers shared by the core and the platforms. */

/** Joins `parts` (whose lengths add up to `total`) into one new array; one part is returned as is. */
export function concatBytes (parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** UTF-8 length of a string without encoding it (a lone surrogate counts as 2 bytes, not 3). */
export function utf8Length (text: string): number {
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return n
}

/** Writes `value` as a big-endian u32 at `at`. */
export function writeU32 (target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24
  target[at + 1] = (value >>> 16) & 0xff
  target[at + 2] = (value >>> 8) & 0xff
  target[at + 3] = value & 0xff
}

/** Reads a big-endian u32 at `at`. */
export function readU32 (source: Uint8Array, at: number): number {
  return (((source[at] as number) << 24) >>> 0) + (((source[at + 1] as number) << 16) | ((source[at + 2] as number) << 8) | (source[at + 3] as number))
}
