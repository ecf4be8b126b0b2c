/**
 * The MessagePack codec (msgpackr): plain MessagePack that any library decodes (no records, maps
 * as plain objects, no extension type but the timestamp), checked by MessagePackGuard before
 * msgpackr reads it.
 */
import { Packr, RESERVE_START_SPACE } from 'msgpackr'
import './msgpack-extensions.js'
import { MessagePackGuard, HAS_NDARRAY } from './msgpack-guard.js'
import { reviveNdarrays } from './tagged-values.js'
import { resolveCodecOptions } from './codec.js'
import type { Codec, CodecOptions } from './codec.js'
import { errors, isWireboxError } from '../errors.js'

/** Creates a MessagePack codec. */
export function createMessagePackCodec (options?: CodecOptions): Codec {
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

  return {
    name: 'messagepack',
    encode (value, room = 0) {
      if (room < 0 || room > 255) throw new errors.WIREBOX_ERR_INVALID_OPTION('room', 'must be 0-255')
      try {
        return room === 0 ? packr.pack(value) : packr.pack(value, RESERVE_START_SPACE | room)
      } catch (err) {
        throw new errors.WIREBOX_ERR_ENCODE_FAILED('MessagePack', (err as Error).message)
      }
    },
    decode (bytes) {
      const found = guard === undefined ? HAS_NDARRAY : guard.check(bytes)
      let value: unknown
      try {
        value = packr.unpack(bytes)
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
