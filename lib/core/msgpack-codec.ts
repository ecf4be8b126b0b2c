/**
 * The MessagePack codec: plain MessagePack that any library decodes (no records, maps as plain
 * objects, no extension type but the timestamp). Written by the shared writer (msgpackr for what
 * it does not write itself), checked by MessagePackGuard, then read by MessagePackReader; with
 * `msgpackExtensions`, msgpackr both ways.
 */
import { Packr, RESERVE_START_SPACE } from 'msgpackr'
import './msgpack-extensions.js'
import { MessagePackGuard, HAS_NDARRAY } from './msgpack-guard.js'
import { MessagePackReader } from './msgpack-reader.js'
import { reviveNdarrays } from './tagged-values.js'
import { resolveCodecOptions } from './codec.js'
import type { Codec, CodecOptions } from './codec.js'
import { errors, isWireboxError } from '../errors.js'
import { acquireWriter } from './compact/writer.js'
import type { CompactWriter } from './compact/writer.js'
import type { Envelope } from '../../schemas/envelope.js'

/** The messagepack codec, with what the encoders of this library use beyond `Codec`. */
export interface MessagePackCodec extends Codec {
  /** msgpackr alone (never the shared writer): for the writer's own fallback. */
  pack: (value: unknown) => Uint8Array
  /**
   * Encodes an envelope behind `room` bytes: its `timestamp` and `seq` beyond 32 bits as int 64
   * (PROTOCOL.md section 5), so that typed decoders in other languages read integers.
   */
  encodeEnvelope: (envelope: Envelope, room: number) => Uint8Array
}

/** Creates a MessagePack codec. */
export function createMessagePackCodec (options?: CodecOptions): MessagePackCodec {
  const { maxDepth, bigint, msgpackExtensions } = resolveCodecOptions(options)
  // skipValues is a msgpackr option its typings do not list yet.
  const packr = new Packr({
    useRecords: false,
    mapsAsObjects: true,
    moreTypes: msgpackExtensions,
    structuredClone: msgpackExtensions,
    bundleStrings: false,
    encodeUndefinedAsNil: true,
    // As JSON.stringify does: a property whose value is undefined is left out.
    skipValues: [undefined],
    // The guard admits 64-bit integers beyond 2^53 only when BigInt is enabled.
    int64AsType: (bigint ? 'auto' : 'number') as 'number'
  } as ConstructorParameters<typeof Packr>[0])
  const guard = msgpackExtensions ? undefined : new MessagePackGuard(maxDepth, bigint)
  const reader = msgpackExtensions ? undefined : new MessagePackReader(bigint)

  const packWith = (value: unknown, room: number): Uint8Array => {
    try {
      return room === 0 ? packr.pack(value) : packr.pack(value, RESERVE_START_SPACE | room)
    } catch (err) {
      throw new errors.WIREBOX_ERR_ENCODE_FAILED('MessagePack', (err as Error).message)
    }
  }
  const pack = (value: unknown): Uint8Array => packWith(value, 0)
  // Plain objects, arrays, strings and numbers are written by the shared writer, byte for byte as
  // msgpackr writes them (faster than msgpackr with skipValues); msgpackr's extensions by msgpackr.
  const write = (room: number, body: (writer: CompactWriter) => void): Uint8Array => {
    if (room < 0 || room > 255) throw new errors.WIREBOX_ERR_INVALID_OPTION('room', 'must be 0-255')
    const writer = acquireWriter()
    writer.begin(room, pack)
    try {
      body(writer)
    } catch (err) {
      writer.abort()
      throw err
    }
    return writer.finish()
  }

  return {
    name: 'messagepack',
    pack,
    encode (value, room = 0) {
      if (msgpackExtensions) {
        if (room < 0 || room > 255) throw new errors.WIREBOX_ERR_INVALID_OPTION('room', 'must be 0-255')
        return packWith(value, room)
      }
      return write(room, (writer) => writer.value(value))
    },
    encodeEnvelope (envelope, room) {
      if (msgpackExtensions) return this.encode(withIntegerFields(envelope), room)
      return write(room, (writer) => writer.envelope(envelope))
    },
    decode (bytes) {
      const found = guard === undefined ? HAS_NDARRAY : guard.check(bytes)
      let value: unknown
      try {
        // Checked bytes are read by our reader; msgpackr's extensions by msgpackr.
        value = reader === undefined ? packr.unpack(bytes) : reader.read(bytes)
      } catch (err) {
        throw new errors.WIREBOX_ERR_DECODE_FAILED('MessagePack', (err as Error).message)
      }
      if ((found & HAS_NDARRAY) === 0) return value
      try {
        return reviveNdarrays(value, guard === undefined ? new WeakSet() : undefined)
      } catch (err) {
        if (isWireboxError(err)) throw err
        throw new errors.WIREBOX_ERR_DECODE_FAILED('MessagePack', (err as Error).message)
      }
    }
  }
}

/**
 * msgpackr writes every number beyond 32 bits as a float64. The envelope's integer fields must
 * be MessagePack integers for typed decoders in other languages: pass them as BigInt, which
 * msgpackr writes as int 64 (and which decodes back to a number).
 */
function withIntegerFields (envelope: Envelope): Envelope {
  const { timestamp, seq } = envelope
  if (timestamp <= 0xffffffff && (seq === undefined || seq <= 0xffffffff)) return envelope
  const copy: Record<string, unknown> = { ...envelope }
  if (timestamp > 0xffffffff && Number.isSafeInteger(timestamp)) copy.timestamp = BigInt(timestamp)
  if (seq !== undefined && seq > 0xffffffff && Number.isSafeInteger(seq)) copy.seq = BigInt(seq)
  return copy as Envelope
}
