/**
 * The Node.js platform: CRC32 from zlib (native `zlib.crc32` on Node >= 20.15, else the `crc-32`
 * package) and gzip/deflate from zlib, with the output bounded while inflating (zlib's
 * `maxOutputLength` stops at the limit instead of producing everything first). Small jobs run
 * inline, large ones in zlib's thread pool.
 */
import zlib from 'node:zlib'
import CRC32 from 'crc-32'
import type { Platform } from '../core/platform.js'
import type { CompressionAlgorithm } from '../core/constants.js'
import { errors } from '../errors.js'

type ZlibCallback = (error: Error | null, result: Buffer) => void
type InfoCallback = (error: (Error & { code?: string }) | null, result: InflateResult) => void

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
// Small jobs run synchronously: a thread-pool round trip costs more than the work itself (a
// 4 KB body: ~35 µs to gzip inline, ~160 µs through the pool). Inline work is bounded: at most
// 64 KiB of input to compress, at most 1 MiB of output to inflate; larger jobs go to the pool.
const SYNC_COMPRESS_MAX_INPUT = 64 * 1024
const SYNC_INFLATE_MAX_OUTPUT = 1024 * 1024

type InflateResult = { buffer: Buffer, engine: { bytesWritten: number } }

// Large jobs run in zlib's thread pool one at a time, in order: compressing many large messages at
// once would take every core from the event loop (and hold all their buffers at once).
const POOL_JOBS = 1
let poolBusy = 0
const poolWaiting: Array<() => void> = []

/** Runs `job` when a pool slot is free; the slot is released when its promise settles. */
function inPool<T> (job: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => {
    if (poolBusy < POOL_JOBS) {
      poolBusy++
      resolve()
    } else {
      poolWaiting.push(resolve)
    }
  }).then(job).finally(() => {
    const next = poolWaiting.shift()
    if (next === undefined) poolBusy--
    else next()
  })
}

function compress (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Promise<Uint8Array> {
  const options = { level, chunkSize: CHUNK_SIZE }
  if (data.length <= SYNC_COMPRESS_MAX_INPUT) {
    try {
      return Promise.resolve(algorithm === 'gzip' ? zlib.gzipSync(data, options) : zlib.deflateSync(data, options))
    } catch (err) {
      return Promise.reject(err)
    }
  }
  const fn = algorithm === 'gzip' ? zlib.gzip : zlib.deflate
  return inPool(async () => await new Promise((resolve, reject) => {
    (fn as (buf: Uint8Array, opts: zlib.ZlibOptions, cb: ZlibCallback) => void)(data, options, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  }))
}

function decompress (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Promise<Uint8Array> {
  const inlineLimit = Math.min(maxSize, SYNC_INFLATE_MAX_OUTPUT)
  try {
    const fn = algorithm === 'gzip' ? zlib.gunzipSync : zlib.inflateSync
    const result = (fn as unknown as (buf: Uint8Array, opts: object) => InflateResult)(data, { maxOutputLength: inlineLimit, info: true, chunkSize: CHUNK_SIZE })
    return Promise.resolve(checked(algorithm, data, result))
  } catch (err) {
    // Larger than the inline budget but within the limit: inflate again, off the event loop.
    if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE' || inlineLimit === maxSize) {
      return Promise.reject(failure(algorithm, err as Error, maxSize))
    }
  }
  const fn = algorithm === 'gzip' ? zlib.gunzip : zlib.inflate
  return inPool(async () => await new Promise((resolve, reject) => {
    (fn as unknown as (buf: Uint8Array, opts: object, cb: InfoCallback) => void)(data, { maxOutputLength: maxSize, info: true, chunkSize: CHUNK_SIZE }, (err, result) => {
      if (err !== null) reject(failure(algorithm, err, maxSize))
      else {
        try {
          resolve(checked(algorithm, data, result))
        } catch (error) {
          reject(error)
        }
      }
    })
  }))
}

function failure (algorithm: CompressionAlgorithm, err: Error & { code?: string }, maxSize: number): Error {
  return err.code === 'ERR_BUFFER_TOO_LARGE'
    ? new errors.WIREBOX_ERR_DECOMPRESSED_TOO_LARGE(maxSize)
    : new errors.WIREBOX_ERR_DECOMPRESSION_FAILED(algorithm, err.message)
}

/** zlib stops at the end of the compressed stream and ignores what follows: refuse it. */
function checked (algorithm: CompressionAlgorithm, data: Uint8Array, result: InflateResult): Buffer {
  if (result.engine.bytesWritten !== data.length) {
    throw new errors.WIREBOX_ERR_DECOMPRESSION_FAILED(algorithm, `${data.length - result.engine.bytesWritten} bytes of trailing garbage`)
  }
  return result.buffer
}

/** The platform the server uses. */
export const nodePlatform: Platform = Object.freeze({ name: 'node', crc32, compress, decompress })
