/**
 * What the pure core needs from its host: CRC32 and zlib-format compression. The server passes
 * `nodePlatform` (lib/platform/node.ts); the browser client passes `webPlatform`
 * (lib/platform/web.ts). Both must produce identical bytes on the wire.
 */
import type { CompressionAlgorithm } from './constants.js'

/** Host services used by the frame codec and the compression layer. */
export interface Platform {
  /** A name for logs and tests, e.g. `node` or `web`. */
  readonly name: string
  /** CRC-32 (IEEE 802.3, as zlib) of `data`, as an unsigned 32-bit integer. */
  crc32 (data: Uint8Array): number
  /** Compresses `data` with `algorithm` at zlib `level` (0-9; a platform may ignore it). */
  compress (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Promise<Uint8Array>
  /**
   * Decompresses `data`, failing with WIREBOX_ERR_DECOMPRESSED_TOO_LARGE as soon as the output
   * passes `maxSize` bytes (not after producing it), and with WIREBOX_ERR_DECOMPRESSION_FAILED on
   * corrupt, truncated or trailing-garbage input.
   */
  decompress (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Promise<Uint8Array>
  /**
   * Optional: `compress` done synchronously, for jobs small enough to run on the event loop;
   * undefined for larger ones (the caller uses `compress`).
   */
  compressNow? (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Uint8Array | undefined
  /**
   * Optional: `decompress` done synchronously (throwing its errors), for outputs small enough to
   * produce on the event loop; undefined for larger ones (the caller uses `decompress`).
   */
  decompressNow? (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Uint8Array | undefined
}
