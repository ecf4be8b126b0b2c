/**
 * When to compress and how to undo it (PROTOCOL.md section 3): a body above the threshold is
 * compressed with the connection's algorithm and sent compressed only when that made it smaller.
 * A sender also learns, per kind of message, whether compressing pays: a kind whose bodies
 * shrank by less than `minSavings` is sent uncompressed for a while (16 messages, doubling up to
 * 1024 while it keeps not paying), then tried again. The receiver does not know or care: the
 * COMPRESSED flag says what each frame holds.
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

// Messages of a kind sent uncompressed after a try that did not pay, doubling while it keeps not
// paying, up to the maximum.
const FIRST_PAUSE = 16
const MAX_PAUSE = 1024
// Kinds remembered at once (message kinds are a protocol's names: a handful).
const MAX_KINDS = 1024

/** What compressing one kind of message has been worth. */
interface KindRecord {
  /** Messages of this kind still to send without trying. */
  skip: number
  /** The next pause, after another try that does not pay. */
  pause: number
}

/** Learns, per kind of message, whether compressing it saves at least `minSavings` of its bytes. */
export class CompressionAdvisor {
  readonly #minSavings: number
  // Created with the first kind that does not pay.
  #kinds: Map<string, KindRecord> | undefined

  /** `minSavings`: the fraction of its bytes compression must save (0 disables learning). */
  constructor (minSavings: number) {
    this.#minSavings = minSavings
  }

  /** Whether to try compressing a message of `kind` (false while its pause lasts). */
  worthTrying (kind: string): boolean {
    if (this.#minSavings <= 0) return true
    const record = this.#kinds?.get(kind)
    if (record === undefined || record.skip === 0) return true
    record.skip--
    return false
  }

  /** Records one try: `before` bytes compressed to `after`. */
  record (kind: string, before: number, after: number): void {
    if (this.#minSavings <= 0) return
    const pays = after <= before * (1 - this.#minSavings)
    const record = this.#kinds?.get(kind)
    if (pays) {
      if (record !== undefined) this.#kinds?.delete(kind)
      return
    }
    if (record === undefined) {
      const kinds = this.#kinds ??= new Map()
      if (kinds.size >= MAX_KINDS) kinds.clear()
      kinds.set(kind, { skip: FIRST_PAUSE, pause: Math.min(2 * FIRST_PAUSE, MAX_PAUSE) })
    } else {
      record.skip = record.pause
      record.pause = Math.min(2 * record.pause, MAX_PAUSE)
    }
  }
}

/**
 * Returns the compressed body when compression applies and helps, else undefined (send `body`
 * as it is). Synchronous when the platform can compress inline; a promise otherwise.
 */
export function compressIfSmaller (
  body: Uint8Array, settings: CompressionSettings, platform: Platform, advisor?: CompressionAdvisor, kind = ''
): Uint8Array | undefined | Promise<Uint8Array | undefined> {
  if (settings.algorithm === 'none' || body.length <= settings.threshold) return undefined
  if (advisor !== undefined && !advisor.worthTrying(kind)) return undefined
  const algorithm = settings.algorithm
  const smaller = (compressed: Uint8Array): Uint8Array | undefined => {
    advisor?.record(kind, body.length, compressed.length)
    return compressed.length < body.length ? compressed : undefined
  }
  const inline = platform.compressNow?.(algorithm, body, settings.level)
  if (inline !== undefined) return smaller(inline)
  return platform.compress(algorithm, body, settings.level).then(smaller)
}

/** Inflates a COMPRESSED body, bounded by `maxSize` while inflating; synchronous when the platform can inflate inline. */
export function decompressBody (body: Uint8Array, algorithm: CompressionAlgorithm | 'none', maxSize: number, platform: Platform): Uint8Array | Promise<Uint8Array> {
  if (algorithm === 'none') throw new errors.WIREBOX_ERR_COMPRESSION_NOT_NEGOTIATED()
  return platform.decompressNow?.(algorithm, body, maxSize) ?? platform.decompress(algorithm, body, maxSize)
}
