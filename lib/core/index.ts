/**
 * The pure wire core: frames, CRC32 and compression through a Platform, chunking, codecs and
 * envelopes. No Fastify and no `node:` imports: the browser client bundles this.
 */
export * from './constants.js'
export * from './frame.js'
export * from './chunking.js'
export * from './compression.js'
export * from './codec.js'
export * from './msgpack-codec.js'
export * from './json-codec.js'
export * from './envelope.js'
export * from './wire.js'
export type { Platform } from './platform.js'
export { DTYPES, toBase64, fromBase64 } from './tagged-values.js'
export type { NumericArray } from './tagged-values.js'
export * from '../errors.js'
export * from '../../schemas/envelope.js'
export * from '../../schemas/negotiation.js'
export * from '../../schemas/error.js'
export * from '../../schemas/subscription.js'
export * from '../../schemas/wire-types.js'
export * from './options.js'
export * from '../../schemas/wire-options.js'
