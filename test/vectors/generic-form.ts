/**
 * The form in which an independent decoder (JSON.parse, or @msgpack/msgpack with Dates and
 * Uint8Arrays replaced by the JSON wrappers) sees a body: written without the library's code.
 */
function base64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

const DTYPE: Record<string, string> = {
  Int8Array: 'int8',
  Uint8ClampedArray: 'uint8c',
  Int16Array: 'int16',
  Uint16Array: 'uint16',
  Int32Array: 'int32',
  Uint32Array: 'uint32',
  Float32Array: 'float32',
  Float64Array: 'float64',
  BigInt64Array: 'int64',
  BigUint64Array: 'uint64'
}

/** Maps a value to the generic form for `encoding`. */
export function genericForm (value: unknown, encoding: string): unknown {
  if (value instanceof Date) return { __datetime__: value.toISOString() }
  if (value instanceof Uint8Array) return { __bytes__: base64(value) }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    const data = encoding === 'json' ? base64(bytes) : { __bytes__: base64(bytes) }
    return { __ndarray__: data, dtype: DTYPE[value.constructor.name], shape: [(value as unknown as { length: number }).length] }
  }
  if (Array.isArray(value)) return value.map((v) => genericForm(v, encoding))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = genericForm(v, encoding)
    return out
  }
  return value
}
