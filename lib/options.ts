/**
 * Plugin and route options: defaults declared once, checked once against a schema (one error
 * naming every bad field), merged (route over plugin) and frozen.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Version, CompressionAlgorithm } from './core/constants.js'
import { DEFAULTS as WIRE_DEFAULTS } from './core/constants.js'
import type { Encoding, CodecOptions } from './core/codec.js'
import type { Protocol, ProtocolDefinition } from './protocol.js'
import type { Broker } from './brokers/broker.js'
import { errors } from './errors.js'
import { assertOptions } from './core/schema-check.js'
import { CodecOptionsSchema } from '../schemas/wire-options.js'

/** Compression settings. */
export interface CompressionOptions {
  /** Bodies larger than this many bytes are compressed (default 1024). */
  threshold?: number
  /** zlib level 0-9 (default 6). */
  level?: number
  /**
   * A kind of message (its event name) whose compression saved less than this fraction of its
   * bytes is sent uncompressed for a while (16 messages, doubling to 1024 while it keeps not
   * paying), then tried again (default 0.4; 0: compress whenever the result is smaller).
   */
  minSavings?: number
  /** Algorithms a client may choose, in order of preference (default ['gzip', 'deflate']; [] disables). */
  algorithms?: CompressionAlgorithm[]
}

/** Per-connection rate limit: token buckets refilled continuously. */
export interface RateLimitOptions {
  /** Messages per second (default 1000). */
  messagesPerSecond?: number
  /** Wire bytes per second (default 64 MiB). */
  bytesPerSecond?: number
  /** Bucket size in messages (default: 2 x messagesPerSecond). */
  burstMessages?: number
  /** Bucket size in bytes (default: 2 x bytesPerSecond). */
  burstBytes?: number
  /** Rejections within one second after which the connection is closed with 1008 (default 100). */
  closeAfter?: number
}

/** What happens when a socket's send buffer passes the high-water mark. */
export interface BackpressureOptions {
  /**
   * Buffered bytes above which the policy applies (default 4 MiB). Also the bytes a client's
   * messages may take while they wait behind a pending one: above it, reading pauses.
   */
  highWaterMark?: number
  /** `drop`: non-PRIORITY events are dropped and counted; `close`: close with 1013 (default 'drop'). */
  policy?: 'drop' | 'close'
}

/** Options valid at plugin level (defaults for every route) and route level. */
export interface SharedOptions {
  /** Largest message in bytes, on the wire and decompressed (default 64 MiB). */
  maxMessageSize?: number
  /** Compression (default: gzip or deflate above 1024 bytes, level 6, where it saves at least 40%). */
  compression?: CompressionOptions
  /** Largest chunk data in bytes (default 256 KiB). */
  chunkSize?: number
  /** Incomplete chunked messages are dropped after this many ms (default 60000). */
  chunkTimeoutMs?: number
  /** Incomplete chunked messages per connection (default 16). */
  maxPartialMessages?: number
  /** Lowest protocol version accepted (default 1). */
  minVersion?: Version
  /** Highest protocol version spoken (default 3). */
  maxVersion?: Version
  /**
   * Encodings a client may choose; JSON is always the fallback, and messagepack the fallback for
   * msgpack-compact when allowed (default ['messagepack', 'msgpack-compact', 'json']).
   */
  encodings?: Encoding[]
  /** Heartbeat interval in ms; a peer silent for two intervals is terminated (default 30000; 0 disables). */
  heartbeatIntervalMs?: number
  /** A request handler that takes longer is answered with 0x301 (default 30000). */
  requestTimeoutMs?: number
  /** A send with `ack: true` rejects when no ACK arrives in this many ms (default 10000). */
  ackTimeoutMs?: number
  /** Requests in flight per connection; more are answered with 0x204 (default 64). */
  maxInFlight?: number
  /** Topics one connection may subscribe to; more are refused with 0x204 (default 100). */
  maxSubscriptions?: number
  /** Validate outgoing payloads against the protocol (default true). */
  validateOutgoing?: boolean
  /** Per-connection rate limit, or false for none (default: see RateLimitOptions). */
  rateLimit?: RateLimitOptions | false
  /** Send-buffer high-water mark and policy (default 4 MiB, 'drop'). */
  backpressure?: BackpressureOptions
  /** Origins allowed to connect; others get 403 before the upgrade (default: any). */
  allowedOrigins?: string[]
  /** Codec limits (default: depth 64, no BigInt, plain MessagePack). */
  codec?: CodecOptions
}

/** Plugin options. */
export interface WireboxPluginOptions extends SharedOptions {
  /** The topic broker: `redisBroker(...)` to share topics between instances (default: in memory). */
  broker?: Broker
  /** Topics with subscribers on this instance; SUBSCRIBE to one more is refused with 0x204 (default 10000). */
  maxTopics?: number
  /** Bytes of incomplete chunked messages all connections may hold together; beyond, 0x102 and close 1013 (default 256 MiB). */
  maxPartialBytesTotal?: number
  /** Open connections across routes; more are refused with HTTP 503 before the upgrade (default 10000). */
  maxConnections?: number
  /** History of the in-memory broker, for resume (default: 1000 messages, 5 minutes per topic). */
  history?: { size?: number, ttlMs?: number }
  /** Serve Prometheus metrics at this path (default: not served). */
  metricsRoute?: string
  /** Options for @fastify/websocket when the plugin registers it (default: {}). */
  websocket?: Record<string, unknown>
}

/** A hook run before the upgrade; reply with an error to refuse the connection. */
export type UpgradeHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | void

/** Route options. */
export interface WireboxRouteOptions<P extends ProtocolDefinition = ProtocolDefinition> extends SharedOptions {
  /** The route's protocol (`defineProtocol`). */
  protocol: Protocol<P>
  /** Authentication and authorisation, before the upgrade (Fastify preValidation hook). */
  preValidation?: UpgradeHook | UpgradeHook[]
  /** Serve `<path>/schema.json` (JSON Schema) and `<path>/asyncapi.json` (AsyncAPI 3.0) (default false). */
  schemaRoutes?: boolean
}

/** Shared options with every default applied. */
export interface ResolvedOptions {
  maxMessageSize: number
  compression: Required<CompressionOptions>
  chunkSize: number
  chunkTimeoutMs: number
  maxPartialMessages: number
  minVersion: Version
  maxVersion: Version
  encodings: Encoding[]
  heartbeatIntervalMs: number
  requestTimeoutMs: number
  ackTimeoutMs: number
  maxInFlight: number
  maxSubscriptions: number
  validateOutgoing: boolean
  rateLimit: Required<RateLimitOptions> | false
  backpressure: Required<BackpressureOptions>
  allowedOrigins: string[] | undefined
  codec: CodecOptions
}

/** Every default, in one place. */
export const DEFAULTS = Object.freeze({
  maxMessageSize: WIRE_DEFAULTS.maxMessageSize,
  compression: Object.freeze({ threshold: WIRE_DEFAULTS.compressionThreshold, level: WIRE_DEFAULTS.compressionLevel, minSavings: WIRE_DEFAULTS.compressionMinSavings, algorithms: ['gzip', 'deflate'] as CompressionAlgorithm[] }),
  chunkSize: WIRE_DEFAULTS.chunkSize,
  chunkTimeoutMs: WIRE_DEFAULTS.chunkTimeoutMs,
  maxPartialMessages: WIRE_DEFAULTS.maxPartialMessages,
  minVersion: 1 as Version,
  maxVersion: 3 as Version,
  encodings: ['messagepack', 'msgpack-compact', 'json'] as Encoding[],
  heartbeatIntervalMs: 30_000,
  requestTimeoutMs: 30_000,
  ackTimeoutMs: 10_000,
  maxInFlight: 64,
  maxSubscriptions: 100,
  maxTopics: 10_000,
  maxPartialBytesTotal: 256 * 1024 * 1024,
  maxConnections: 10_000,
  validateOutgoing: true,
  rateLimit: Object.freeze({ messagesPerSecond: 1000, bytesPerSecond: 64 * 1024 * 1024, closeAfter: 100 }),
  backpressure: Object.freeze({ highWaterMark: 4 * 1024 * 1024, policy: 'drop' as const })
})

const version = Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)])
const positive = Type.Integer({ minimum: 1 })
const sharedProperties = {
  maxMessageSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 0xffffffff })),
  compression: Type.Optional(Type.Object({
    threshold: Type.Optional(Type.Integer({ minimum: 0 })),
    level: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    minSavings: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    algorithms: Type.Optional(Type.Array(Type.Union([Type.Literal('gzip'), Type.Literal('deflate')]), { uniqueItems: true }))
  }, { additionalProperties: false })),
  chunkSize: Type.Optional(Type.Integer({ minimum: 64 })),
  chunkTimeoutMs: Type.Optional(positive),
  maxPartialMessages: Type.Optional(positive),
  minVersion: Type.Optional(version),
  maxVersion: Type.Optional(version),
  encodings: Type.Optional(Type.Array(Type.Union([Type.Literal('messagepack'), Type.Literal('msgpack-compact'), Type.Literal('json')]), { uniqueItems: true })),
  heartbeatIntervalMs: Type.Optional(Type.Integer({ minimum: 0 })),
  requestTimeoutMs: Type.Optional(positive),
  ackTimeoutMs: Type.Optional(positive),
  maxInFlight: Type.Optional(positive),
  maxSubscriptions: Type.Optional(positive),
  validateOutgoing: Type.Optional(Type.Boolean()),
  rateLimit: Type.Optional(Type.Union([Type.Literal(false), Type.Object({
    messagesPerSecond: Type.Optional(positive),
    bytesPerSecond: Type.Optional(positive),
    burstMessages: Type.Optional(positive),
    burstBytes: Type.Optional(positive),
    closeAfter: Type.Optional(positive)
  }, { additionalProperties: false })])),
  backpressure: Type.Optional(Type.Object({
    highWaterMark: Type.Optional(positive),
    policy: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('close')]))
  }, { additionalProperties: false })),
  allowedOrigins: Type.Optional(Type.Array(Type.String())),
  codec: Type.Optional(CodecOptionsSchema)
}

/** Schema of the plugin options. */
const PluginOptionsSchema = Type.Object({
  ...sharedProperties,
  metricsRoute: Type.Optional(Type.String({ pattern: '^/' })),
  maxTopics: Type.Optional(positive),
  maxPartialBytesTotal: Type.Optional(positive),
  maxConnections: Type.Optional(positive),
  broker: Type.Optional(Type.Object({ name: Type.String() }, { description: 'a Broker (memoryBroker, redisBroker)' })),
  history: Type.Optional(Type.Object({ size: Type.Optional(Type.Integer({ minimum: 0 })), ttlMs: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false })),
  websocket: Type.Optional(Type.Object({}))
}, { additionalProperties: false })

/** Schema of the route options (functions and the protocol are checked apart). */
const RouteOptionsSchema = Type.Object({
  ...sharedProperties,
  protocol: Type.Object({ __wirebox: Type.Literal('protocol') }, { description: 'made by defineProtocol' }),
  preValidation: Type.Optional(Type.Unknown()),
  schemaRoutes: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

/** Checks plugin options; throws one WIREBOX_ERR_INVALID_OPTION naming every bad field. */
export function checkPluginOptions (options: unknown): asserts options is WireboxPluginOptions {
  assertOptions(PluginOptionsSchema, options, 'wirebox plugin options')
}

/** Checks route options likewise, including that hooks are functions. */
export function checkRouteOptions (options: unknown): asserts options is WireboxRouteOptions {
  assertOptions(RouteOptionsSchema, options, 'wirebox route options')
  const hooks = (options as WireboxRouteOptions).preValidation
  const list = hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]
  if (list.some((hook) => typeof hook !== 'function')) {
    throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', '/preValidation must be a function or an array of functions')
  }
}

/** Applies defaults: route options over plugin options over DEFAULTS; the result is frozen. */
export function resolveOptions (plugin: SharedOptions, route: SharedOptions = {}): Readonly<ResolvedOptions> {
  const pick = <K extends keyof SharedOptions>(key: K): SharedOptions[K] => route[key] ?? plugin[key]
  const rateLimit = route.rateLimit === false || (route.rateLimit === undefined && plugin.rateLimit === false)
    ? false
    : { ...DEFAULTS.rateLimit, ...(plugin.rateLimit || {}), ...(route.rateLimit || {}) }
  const resolved: ResolvedOptions = {
    maxMessageSize: pick('maxMessageSize') ?? DEFAULTS.maxMessageSize,
    compression: { ...DEFAULTS.compression, ...plugin.compression, ...route.compression },
    chunkSize: pick('chunkSize') ?? DEFAULTS.chunkSize,
    chunkTimeoutMs: pick('chunkTimeoutMs') ?? DEFAULTS.chunkTimeoutMs,
    maxPartialMessages: pick('maxPartialMessages') ?? DEFAULTS.maxPartialMessages,
    minVersion: pick('minVersion') ?? DEFAULTS.minVersion,
    maxVersion: pick('maxVersion') ?? DEFAULTS.maxVersion,
    encodings: pick('encodings') ?? DEFAULTS.encodings,
    heartbeatIntervalMs: pick('heartbeatIntervalMs') ?? DEFAULTS.heartbeatIntervalMs,
    requestTimeoutMs: pick('requestTimeoutMs') ?? DEFAULTS.requestTimeoutMs,
    ackTimeoutMs: pick('ackTimeoutMs') ?? DEFAULTS.ackTimeoutMs,
    maxInFlight: pick('maxInFlight') ?? DEFAULTS.maxInFlight,
    maxSubscriptions: pick('maxSubscriptions') ?? DEFAULTS.maxSubscriptions,
    validateOutgoing: pick('validateOutgoing') ?? DEFAULTS.validateOutgoing,
    rateLimit: rateLimit === false
      ? false
      : {
          ...rateLimit,
          burstMessages: rateLimit.burstMessages ?? rateLimit.messagesPerSecond * 2,
          burstBytes: rateLimit.burstBytes ?? rateLimit.bytesPerSecond * 2
        },
    backpressure: { ...DEFAULTS.backpressure, ...plugin.backpressure, ...route.backpressure },
    allowedOrigins: pick('allowedOrigins'),
    codec: { ...plugin.codec, ...route.codec }
  }
  if (resolved.minVersion > resolved.maxVersion) {
    throw new errors.WIREBOX_ERR_INVALID_OPTION('minVersion', `${resolved.minVersion} is above maxVersion ${resolved.maxVersion}`)
  }
  return deepFreeze(resolved)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
