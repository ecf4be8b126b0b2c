/**
 * The dtypes of `__ndarray__` values (PROTOCOL.md section 5): the one table of the typed arrays
 * that travel as an `__ndarray__`. The codecs (tagged-values.ts), the NdArray schema
 * (schemas/wire-types.ts) and the schema printers (lib/schema) all read it.
 */

/** What the table says of one dtype. */
interface DTypeInfo {
  /** The typed array class. */
  readonly Class: NumericArrayClass
  /** Bytes of one element on the wire (little-endian). */
  readonly bytesPerElement: number
  /** The TypeScript type of a value, as a generated `.d.ts` prints it. */
  readonly typeName: string
}

/** Every dtype, by its name on the wire (NumPy's), in the order PROTOCOL.md lists them. */
export const DTYPE_TABLE = Object.freeze({
  int8: { Class: Int8Array, bytesPerElement: 1, typeName: 'Int8Array' },
  uint8c: { Class: Uint8ClampedArray, bytesPerElement: 1, typeName: 'Uint8ClampedArray' },
  int16: { Class: Int16Array, bytesPerElement: 2, typeName: 'Int16Array' },
  uint16: { Class: Uint16Array, bytesPerElement: 2, typeName: 'Uint16Array' },
  int32: { Class: Int32Array, bytesPerElement: 4, typeName: 'Int32Array' },
  uint32: { Class: Uint32Array, bytesPerElement: 4, typeName: 'Uint32Array' },
  float32: { Class: Float32Array, bytesPerElement: 4, typeName: 'Float32Array' },
  float64: { Class: Float64Array, bytesPerElement: 8, typeName: 'Float64Array' },
  int64: { Class: BigInt64Array, bytesPerElement: 8, typeName: 'BigInt64Array' },
  uint64: { Class: BigUint64Array, bytesPerElement: 8, typeName: 'BigUint64Array' }
} as const)
for (const info of Object.values(DTYPE_TABLE)) Object.freeze(info)

/** A dtype name. */
export type DType = keyof typeof DTYPE_TABLE

/** The typed array type of each dtype. */
export type DTypeArrays = { [D in DType]: typeof DTYPE_TABLE[D]['Class']['prototype'] }

/** A typed array that travels as an `__ndarray__` (every typed array but Uint8Array). */
export type NumericArray = DTypeArrays[DType]

/** The constructor of a NumericArray. */
export interface NumericArrayClass {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray
  readonly BYTES_PER_ELEMENT: number
}

/** The table's row for `name`, or undefined when `name` (from the wire, say) is not a dtype. */
export function dtypeInfo (name: unknown): DTypeInfo | undefined {
  return typeof name === 'string' && Object.hasOwn(DTYPE_TABLE, name) ? DTYPE_TABLE[name as DType] : undefined
}
