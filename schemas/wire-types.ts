import { Kind, Type, TypeRegistry } from '@sinclair/typebox'
import type { TSchema, TUnsafe } from '@sinclair/typebox'
import { DTYPES } from '../lib/core/tagged-values.js'
import { scaleOf } from '../lib/core/quantum.js'
import type { NumericArray } from '../lib/core/tagged-values.js'
import type { DType, DTypeArrays } from '../lib/core/dtypes.js'

export type { DType } from '../lib/core/dtypes.js'
export { quantumScale } from '../lib/core/quantum.js'

/** Options of an NdArray schema. */
export interface NdArrayOptions {
  /** Fewest elements. */
  minLength?: number
  /** Most elements. */
  maxLength?: number
}

/** The schema of an NdArray: TypeBox's Kind `WireboxNdArray`, JSON Schema extension `x-ndarray`. */
export interface TNdArray<D extends DType> extends TUnsafe<DTypeArrays[D]> {
  dtype: D
}

const KIND = 'WireboxNdArray'
if (!TypeRegistry.Has(KIND)) {
  TypeRegistry.Set(KIND, (schema: TSchema & { dtype: string } & NdArrayOptions, value: unknown) => {
    const Class = DTYPES[schema.dtype]
    if (Class === undefined || !(value instanceof Class)) return false
    const array = value as NumericArray
    return (schema.minLength === undefined || array.length >= schema.minLength) &&
      (schema.maxLength === undefined || array.length <= schema.maxLength)
  })
}

/** A typed array of `dtype` (e.g. `NdArray('float32')` for a Float32Array), sent as `__ndarray__`. */
export function NdArray<D extends DType> (dtype: D, options: NdArrayOptions = {}): TNdArray<D> {
  if (!Object.hasOwn(DTYPES, dtype)) throw new TypeError(`Unknown dtype ${dtype}`)
  return Type.Unsafe<DTypeArrays[D]>({ [Kind]: KIND, dtype, 'x-ndarray': dtype, ...options }) as TNdArray<D>
}

/** A Date (MessagePack timestamp; JSON `__datetime__`). */
export const DateTime = (): ReturnType<typeof Type.Date> => Type.Date()

/** Bytes, a Uint8Array (MessagePack bin; JSON `__bytes__`). */
export const Bytes = (): ReturnType<typeof Type.Uint8Array> => Type.Uint8Array()

/** Options of a quantized number (TypeBox's number options, e.g. `minimum`). */
export type QuantizedOptions = Parameters<typeof Type.Number>[0]

/** Options of a quantized array: TypeBox's array options, and delta coding. */
export type QuantizedArrayOptions = Parameters<typeof Type.Array>[1] & {
  /** Send the differences between consecutive values (msgpack-compact; default false). */
  delta?: boolean
}

/**
 * A number that msgpack-compact sends as a whole count of `quantum` (e.g. `Quantized(0.001)`
 * for millivolts with three decimals): JSON Schema extension `x-quantum`. A value that is not a
 * multiple travels as a float, never rounded. JSON and MessagePack send it as any number.
 */
export function Quantized (quantum: number, options: QuantizedOptions = {}): ReturnType<typeof Type.Number> {
  scaleOf(quantum)
  return Type.Number({ ...options, 'x-quantum': quantum })
}

/**
 * An array of `Quantized(quantum)` numbers; with `delta: true` msgpack-compact sends the first
 * value and then the differences (JSON Schema extension `x-delta`), which suits signals.
 */
export function QuantizedArray (quantum: number, options: QuantizedArrayOptions = {}): ReturnType<typeof Type.Array<ReturnType<typeof Type.Number>>> {
  const { delta = false, ...rest } = options
  return Type.Array(Quantized(quantum), delta ? { ...rest, 'x-delta': true } : rest)
}
