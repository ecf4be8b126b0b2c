/**
 * The Node.js platform: CRC32 from zlib (native `zlib.crc32` on Node >= 20.15, else the `crc-32`
 * package) and gzip/deflate from zlib, off the event loop, with the output bounded while
 * inflating (zlib's `maxOutputLength` stops at the limit instead of producing everything first).
 */
import zlib from 'node:zlib'
import CRC32 from 'crc-32'
import type { Platform } from '../core/platform.js'
import type { CompressionAlgorithm } from '../core/constants.js'
import { errors } from '../errors.js'

type ZlibCallback = (error: Error | null, result: Buffer) => void
type InfoCallback = (error: (Error & { code?: string }) | null, result: { buffer: Buffer, engine: { bytesWritten: number } }) => void

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32

/** CRC-32 with the `crc-32` package (the browser's implementation), as an unsigned integer. */
export function crc32Portable (data: Uint8Array): number {
  return CRC32.buf(data) >>> 0
}

/** CRC-32 with Node's native zlib where it exists, else the portable implementation. */
export const crc32: (data: Uint8Array) => number = nativeCrc32 === undefined
  ? crc32Portable
  : (data) => nativeCrc32(data)

// Output buffers of 64 KiB: fewer round trips to the thread pool for large messages.
const CHUNK_SIZE = 64 * 1024

function compress (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Promise<Uint8Array> {
  const fn = algorithm === 'gzip' ? zlib.gzip : zlib.deflate
  return new Promise((resolve, reject) => {
    (fn as (buf: Uint8Array, opts: zlib.ZlibOptions, cb: ZlibCallback) => void)(data, { level, chunkSize: CHUNK_SIZE }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  })
}

function decompress (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Promise<Uint8Array> {
  const fn = algorithm === 'gzip' ? zlib.gunzip : zlib.inflate
  const options = { maxOutputLength: maxSize, info: true, chunkSize: CHUNK_SIZE }
  return new Promise((resolve, reject) => {
    (fn as unknown as (buf: Uint8Array, opts: object, cb: InfoCallback) => void)(data, options, (err, result) => {
      if (err !== null) {
        reject(err.code === 'ERR_BUFFER_TOO_LARGE'
          ? new errors.WIREBOX_ERR_DECOMPRESSED_TOO_LARGE(maxSize)
          : new errors.WIREBOX_ERR_DECOMPRESSION_FAILED(algorithm, err.message))
        return
      }
      // zlib stops at the end of the compressed stream and ignores what follows: refuse it.
      if (result.engine.bytesWritten !== data.length) {
        reject(new errors.WIREBOX_ERR_DECOMPRESSION_FAILED(algorithm,
          `${data.length - result.engine.bytesWritten} bytes of trailing garbage`))
        return
      }
      resolve(result.buffer)
    })
  })
}

/** The platform the server uses. */
export const nodePlatform: Platform = Object.freeze({ name: 'node', crc32, compress, decompress })
