/**
 * Chunking: a payload larger than the chunk size (after compression) is split into CHUNKED
 * frames whose payload starts with an 8-byte chunk header (message id u32 BE, index u16 BE,
 * count u16 BE), and reassembled on receipt with bounded memory.
 */
import { CHUNK_HEADER_SIZE, DEFAULTS } from './constants.js'
import { concatBytes } from './bytes.js'
import { errors } from '../errors.js'
import type { WireboxError } from '../errors.js'

/** Most chunks one message may have (the count is a u16). */
export const MAX_CHUNKS = 0xffff

/**
 * Splits `payload` into chunk payloads (chunk header + at most `chunkSize` data bytes each).
 * Each returned array is a fresh buffer ready to be framed.
 */
export function splitIntoChunks (payload: Uint8Array, messageId: number, chunkSize: number): Uint8Array[] {
  const count = Math.max(1, Math.ceil(payload.length / chunkSize))
  if (count > MAX_CHUNKS) {
    throw new errors.WIREBOX_ERR_CHUNKED_TOO_LARGE(messageId, MAX_CHUNKS * chunkSize)
  }
  const chunks = new Array<Uint8Array>(count)
  for (let index = 0; index < count; index++) {
    const data = payload.subarray(index * chunkSize, Math.min(payload.length, (index + 1) * chunkSize))
    const chunk = new Uint8Array(CHUNK_HEADER_SIZE + data.length)
    const view = new DataView(chunk.buffer, chunk.byteOffset, CHUNK_HEADER_SIZE)
    view.setUint32(0, messageId >>> 0)
    view.setUint16(4, index)
    view.setUint16(6, count)
    chunk.set(data, CHUNK_HEADER_SIZE)
    chunks[index] = chunk
  }
  return chunks
}

/** A parsed chunk header and its data (a view, not a copy). */
export interface Chunk {
  messageId: number
  index: number
  count: number
  data: Uint8Array
}

/**
 * Reads the chunk header at the start of a CHUNKED frame's payload and checks nothing: the caller
 * has made sure that `payload` holds the 8-byte header. `parseChunk` reads with it, then checks.
 */
export function readChunkHeader (payload: Uint8Array): Chunk {
  const view = new DataView(payload.buffer, payload.byteOffset, CHUNK_HEADER_SIZE)
  return { messageId: view.getUint32(0), index: view.getUint16(4), count: view.getUint16(6), data: payload.subarray(CHUNK_HEADER_SIZE) }
}

/** Parses and checks the chunk header at the start of a CHUNKED frame's payload. */
export function parseChunk (payload: Uint8Array): Chunk {
  if (payload.length < CHUNK_HEADER_SIZE) {
    throw new errors.WIREBOX_ERR_INVALID_CHUNK('?', `payload of ${payload.length} bytes is shorter than the 8-byte chunk header`)
  }
  const chunk = readChunkHeader(payload)
  const { messageId, index, count } = chunk
  if (count === 0) throw new errors.WIREBOX_ERR_INVALID_CHUNK(messageId, 'chunk count is 0')
  if (index >= count) throw new errors.WIREBOX_ERR_INVALID_CHUNK(messageId, `index ${index} >= count ${count}`)
  return chunk
}

/** Bounds for a `ChunkReassembler`. */
export interface ReassemblerOptions {
  /** Largest reassembled message in bytes (default 64 MiB). */
  maxMessageSize?: number
  /** Incomplete messages held at once (default 16). */
  maxPartialMessages?: number
  /** Bytes held by all incomplete messages together (default: `maxMessageSize`). */
  maxPartialBytes?: number
  /** An incomplete message older than this many ms is dropped (default 60000). */
  timeoutMs?: number
  /** Shared with other connections' reassemblers: bytes they may hold together (default: none). */
  budget?: PartialBudget
}

/** Bytes of incomplete messages that every connection of a server may hold together. */
export class PartialBudget {
  /** Bytes held now. */
  held = 0
  /** The limit in bytes. */
  readonly limit: number

  constructor (limit: number) {
    this.limit = limit
  }

  /** Takes `bytes` when they fit under the limit; returns whether they did. */
  take (bytes: number): boolean {
    if (this.held + bytes > this.limit) return false
    this.held += bytes
    return true
  }

  /** Gives back what `take` took. */
  release (bytes: number): void {
    this.held -= bytes
  }
}

interface Partial {
  type: number
  flags: number
  count: number
  received: number
  bytes: number
  parts: Array<Uint8Array | undefined>
  startedAt: number
}

/**
 * Reassembles chunked messages for one connection. Chunk data is kept as the view it arrived in
 * (no copy: the caller must not reuse a frame's buffer) and joined once, when the last chunk
 * arrives.
 * Bounded by count, bytes and age of incomplete messages; `clear()` forgets everything.
 */
export class ChunkReassembler {
  readonly #maxMessageSize: number
  readonly #maxPartialMessages: number
  readonly #maxPartialBytes: number
  readonly #timeoutMs: number
  readonly #budget: PartialBudget | undefined
  readonly #partials = new Map<number, Partial>()
  #heldBytes = 0

  /** @param [options.timeoutMs=60000] age after which an incomplete message is dropped */
  constructor (options: ReassemblerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULTS.maxMessageSize
    this.#maxPartialMessages = options.maxPartialMessages ?? DEFAULTS.maxPartialMessages
    this.#maxPartialBytes = options.maxPartialBytes ?? this.#maxMessageSize
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.chunkTimeoutMs
    this.#budget = options.budget
  }

  /** Incomplete messages held now. */
  get pendingMessages (): number {
    return this.#partials.size
  }

  /** Bytes held by incomplete messages now. */
  get pendingBytes (): number {
    return this.#heldBytes
  }

  /**
   * Adds one chunk (the payload of a CHUNKED frame of `type` with `flags`). Returns the whole
   * message payload when this chunk completes it, else undefined. A chunk that breaks the rules
   * throws and drops the whole message it belongs to.
   */
  add (type: number, flags: number, payload: Uint8Array, now: number = Date.now()): Uint8Array | undefined {
    const { messageId, index, count, data } = parseChunk(payload)
    let partial = this.#partials.get(messageId)
    if (partial === undefined) {
      if (count === 1) {
        if (data.length > this.#maxMessageSize) throw new errors.WIREBOX_ERR_CHUNKED_TOO_LARGE(messageId, this.#maxMessageSize)
        return data
      }
      if (this.#partials.size >= this.#maxPartialMessages) {
        throw new errors.WIREBOX_ERR_TOO_MANY_PARTIAL_MESSAGES(this.#partials.size + 1, this.#maxPartialMessages)
      }
      partial = { type, flags, count, received: 0, bytes: 0, parts: new Array(count), startedAt: now }
      this.#partials.set(messageId, partial)
    } else {
      const problem = partial.count !== count
        ? `count changed from ${partial.count} to ${count}`
        : partial.parts[index] !== undefined
          ? `duplicate index ${index}`
          : partial.type !== type || partial.flags !== flags
            ? 'type or flags differ from the first chunk'
            : undefined
      if (problem !== undefined) {
        this.#drop(messageId, partial)
        throw new errors.WIREBOX_ERR_INVALID_CHUNK(messageId, problem)
      }
    }
    if (partial.bytes + data.length > this.#maxMessageSize) {
      this.#drop(messageId, partial)
      throw new errors.WIREBOX_ERR_CHUNKED_TOO_LARGE(messageId, this.#maxMessageSize)
    }
    if (this.#heldBytes + data.length > this.#maxPartialBytes) {
      this.#drop(messageId, partial)
      throw new errors.WIREBOX_ERR_PARTIAL_BYTES_EXCEEDED(this.#maxPartialBytes)
    }
    if (this.#budget !== undefined && !this.#budget.take(data.length)) {
      this.#drop(messageId, partial)
      throw new errors.WIREBOX_ERR_PARTIAL_INPUT_BUDGET(this.#budget.limit)
    }
    partial.parts[index] = data
    partial.bytes += data.length
    partial.received++
    this.#heldBytes += data.length
    if (partial.received < partial.count) return undefined
    this.#drop(messageId, partial)
    return concatBytes(partial.parts as Uint8Array[], partial.bytes)
  }

  /** Drops incomplete messages older than the timeout; returns one error for each dropped. */
  sweep (now: number = Date.now()): WireboxError[] {
    const dropped: WireboxError[] = []
    for (const [messageId, partial] of this.#partials) {
      if (now - partial.startedAt >= this.#timeoutMs) {
        this.#drop(messageId, partial)
        dropped.push(new errors.WIREBOX_ERR_CHUNK_TIMEOUT(messageId, this.#timeoutMs))
      }
    }
    return dropped
  }

  /** Forgets every incomplete message (call when the connection closes). */
  clear (): void {
    this.#partials.clear()
    this.#budget?.release(this.#heldBytes)
    this.#heldBytes = 0
  }

  #drop (messageId: number, partial: Partial): void {
    this.#partials.delete(messageId)
    this.#heldBytes -= partial.bytes
    this.#budget?.release(partial.bytes)
  }
}
