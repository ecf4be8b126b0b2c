/**
 * The one place that registers msgpackr extensions. msgpackr's `addExtension` is process-wide,
 * so this module runs once, at import, and registers no extension type id: typed arrays (other
 * than Uint8Array) are written as plain `__ndarray__` maps, which any MessagePack library reads.
 *
 * Extension type ids in use on the wire: -1 (the standard timestamp) only. msgpackr's own ids
 * (0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78) appear only with `msgpackExtensions`.
 */
import { addExtension } from 'msgpackr'
import { NDARRAY_CLASSES, ndarrayToTagged } from './tagged-values.js'
import type { NumericArray } from './tagged-values.js'

for (const Class of NDARRAY_CLASSES) {
  addExtension({ Class, write: (array: NumericArray) => ndarrayToTagged(array) })
}
