/** msgpack-compact: the layout compiler and the codec (PROTOCOL.md section 9). */
export { compileLayout, compileNode, assertSameLayout, fnv1a64, admitsNull, LayoutError, MAX_COUNT } from './layout.js'
export type { CompactLayout, LayoutEntry, LayoutField, LayoutNode, NodeCodec } from './layout.js'
export { createCompactCodec, isCompactType } from './codec.js'
export type { CompactCodec } from './codec.js'
