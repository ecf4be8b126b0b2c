/**
 * The web platform, for the browser client: CRC32 from the `crc-32` package and gzip/deflate
 * from the platform's CompressionStream / DecompressionStream ('deflate' there is the zlib
 * format, as in Node). No `node:` imports. CompressionStream has no level: `level` is ignored.
 */
import CRC32 from 'crc-32'
import type { Platform } from '../core/platform.js'
import type { CompressionAlgorithm } from '../core/constants.js'
import { concatBytes } from '../core/bytes.js'
import { errors } from '../errors.js'

/** CRC-32 with the `crc-32` package, as an unsigned integer. */
function crc32 (data: Uint8Array): number {
  return CRC32.buf(data) >>> 0
}

/**
 * Pushes `data` through a transform stream and collects its output; aborts as soon as the output
 * passes `maxSize` bytes.
 */
async function pipe (stream: CompressionStream | DecompressionStream, data: Uint8Array, maxSize: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter()
  const reader = stream.readable.getReader()
  // The write promises settle with the stream's error too; the reader reports it.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {})
  writer.close().catch(() => {})
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > maxSize) {
      await reader.cancel().catch(() => {})
      throw new errors.WIREBOX_ERR_DECOMPRESSED_TOO_LARGE(maxSize)
    }
    parts.push(value)
  }
  return concatBytes(parts, total)
}

async function compress (algorithm: CompressionAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  return await pipe(new CompressionStream(algorithm), data, Number.POSITIVE_INFINITY)
}

async function decompress (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Promise<Uint8Array> {
  try {
    return await pipe(new DecompressionStream(algorithm), data, maxSize)
  } catch (err) {
    if ((err as { code?: string }).code === 'WIREBOX_ERR_DECOMPRESSED_TOO_LARGE') throw err
    throw new errors.WIREBOX_ERR_DECOMPRESSION_FAILED(algorithm, (err as Error).message)
  }
}

/** The platform the browser client uses (works wherever Compression Streams exist). */
export const webPlatform: Platform = Object.freeze({ name: 'web', crc32, compress, decompress })
