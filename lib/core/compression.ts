/**
 * When to compress and how to undo it: a body above the threshold is compressed with the
 * connection's algorithm and sent compressed only when that made it smaller.
 */
import type { CompressionAlgorithm } from './constants.js'
import type { Platform } from './platform.js'
import { errors } from '../errors.js'

/** Compression settings of one connection (or one topic variant). */
export interface CompressionSettings {
  /** `none` turns compression off. */
  algorithm: CompressionAlgorithm | 'none'
  /** Bodies larger than this many bytes are compressed. */
  threshold: number
  /** zlib level 0-9. */
  level: number
}

/**
 * Returns the compressed body when compression applies and helps, else undefined (send `body`
 * as it is).
 */
export async function compressIfSmaller (body: Uint8Array, settings: CompressionSettings, platform: Platform): Promise<Uint8Array | undefined> {
  if (settings.algorithm === 'none' || body.length <= settings.threshold) return undefined
  const compressed = await platform.compress(settings.algorithm, body, settings.level)
  return compressed.length < body.length ? compressed : undefined
}

/** Inflates a COMPRESSED body, bounded by `maxSize` while inflating. */
export async function decompressBody (body: Uint8Array, algorithm: CompressionAlgorithm | 'none', maxSize: number, platform: Platform): Promise<Uint8Array> {
  if (algorithm === 'none') throw new errors.WIREBOX_ERR_COMPRESSION_NOT_NEGOTIATED()
  return await platform.decompress(algorithm, body, maxSize)
}
