/**
 * Type tests (checked by `tsc --noEmit`): the NdArray schema's static type and NumericArray are
 * exactly the typed arrays of the dtype table.
 */
import type { Static } from '@sinclair/typebox'
import type { DType, NumericArray, TNdArray } from '../../lib/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

export const dtypeNames: Equal<DType, 'int8' | 'uint8c' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'int64' | 'uint64'> = true
export const float32: Equal<Static<TNdArray<'float32'>>, Float32Array> = true
export const uint8c: Equal<Static<TNdArray<'uint8c'>>, Uint8ClampedArray> = true
export const int64: Equal<Static<TNdArray<'int64'>>, BigInt64Array> = true
export const numeric: Equal<NumericArray, Int8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array |
Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array> = true
