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

// Output buffers of large jobs: 64 KiB, fewer round trips to the thread pool.
const POOL_CHUNK_SIZE = 64 * 1024
// Small jobs run synchronously: a thread-pool round trip costs more than the work itself (a
// 4 KB body: ~35 µs to gzip inline, ~160 µs through the pool). Inline work is bounded: at most
// 64 KiB of input to compress, at most 1 MiB of output to inflate; larger jobs go to the pool.
const SYNC_COMPRESS_MAX_INPUT = 64 * 1024
const SYNC_INFLATE_MAX_OUTPUT = 1024 * 1024

/**
 * zlib options sized to one small input, so that a call does not allocate zlib's full state
 * (a 32 KiB window, 64 KiB of hash, 64 KiB of pending output, and a 16 KiB output chunk) for a
 * 2 KB body: a window just larger than the input (the same matches, so the same bytes out),
 * hash and symbol buffers in proportion, and one output buffer that fits any result.
 */
function compressOptions (inputLength: number, level: number): zlib.ZlibOptions {
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(inputLength + 262))))
  return { level, windowBits, memLevel: Math.min(8, windowBits - 6), chunkSize: Math.max(64, inputLength + (inputLength >> 3) + 64) }
}

/** Output buffer for an inline inflate: four times the input, within [1 KiB, 64 KiB] and the limit. */
function inflateChunkSize (inputLength: number, limit: number): number {
  return Math.max(64, Math.min(limit + 1, POOL_CHUNK_SIZE, Math.max(1024, 4 * inputLength)))
}

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

function compressNow (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Uint8Array | undefined {
  if (data.length > SYNC_COMPRESS_MAX_INPUT) return undefined
  const options = compressOptions(data.length, level)
  return algorithm === 'gzip' ? zlib.gzipSync(data, options) : zlib.deflateSync(data, options)
}

/** The inline result when there is one (a throw is a rejection), else `pooled()` in the thread pool. */
function inlineOrPool (inline: () => Uint8Array | undefined, pooled: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    const result = inline()
    if (result !== undefined) return Promise.resolve(result)
  } catch (err) {
    return Promise.reject(err)
  }
  return inPool(pooled)
}

function compress (algorithm: CompressionAlgorithm, data: Uint8Array, level: number): Promise<Uint8Array> {
  const fn = algorithm === 'gzip' ? zlib.gzip : zlib.deflate
  return inlineOrPool(() => compressNow(algorithm, data, level), async () => await new Promise((resolve, reject) => {
    (fn as (buf: Uint8Array, opts: zlib.ZlibOptions, cb: ZlibCallback) => void)(data, { level, chunkSize: POOL_CHUNK_SIZE }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  }))
}

function decompressNow (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Uint8Array | undefined {
  const inlineLimit = Math.min(maxSize, SYNC_INFLATE_MAX_OUTPUT)
  try {
    const fn = algorithm === 'gzip' ? zlib.gunzipSync : zlib.inflateSync
    const result = (fn as unknown as (buf: Uint8Array, opts: object) => InflateResult)(data, { maxOutputLength: inlineLimit, info: true, chunkSize: inflateChunkSize(data.length, inlineLimit) })
    return checked(algorithm, data, result)
  } catch (err) {
    // Larger than the inline budget but within the limit: the caller inflates again, off the event loop.
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' && inlineLimit < maxSize) return undefined
    throw isWireboxFailure(err) ? err : failure(algorithm, err as Error, maxSize)
  }
}

function decompress (algorithm: CompressionAlgorithm, data: Uint8Array, maxSize: number): Promise<Uint8Array> {
  const fn = algorithm === 'gzip' ? zlib.gunzip : zlib.inflate
  return inlineOrPool(() => decompressNow(algorithm, data, maxSize), async () => await new Promise((resolve, reject) => {
    (fn as unknown as (buf: Uint8Array, opts: object, cb: InfoCallback) => void)(data, { maxOutputLength: maxSize, info: true, chunkSize: POOL_CHUNK_SIZE }, (err, result) => {
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

function isWireboxFailure (err: unknown): boolean {
  return (err as { code?: string }).code === 'WIREBOX_ERR_DECOMPRESSION_FAILED'
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
export const nodePlatform: Platform = Object.freeze({ name: 'node', crc32, compress, decompress, compressNow, decompressNow })
