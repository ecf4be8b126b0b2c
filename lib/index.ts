/**
 * fastify-wirebox: a Fastify plugin that gives WebSocket routes a typed, binary, compressed
 * message protocol. Default export: the plugin. Also the wire core with the Node.js platform.
 */
export * from './core/index.js'
export { nodePlatform } from './platform/node.js'
export { wirebox, wirebox as default } from './plugin.js'
export type { WireboxDecorator, WireboxRoute, ConnectionSetup } from './plugin.js'
export type { Publisher } from './server/publisher.js'
export { defineProtocol, validatePayload } from './protocol.js'
export type { Protocol, ProtocolDefinition, RequestDefinition, EventName, ServerEventName, ClientEventName, EventPayload, RequestName, RequestPayload, ResponsePayload } from './protocol.js'
export { WireboxConnection } from './server/connection.js'
export type { HandlerContext, EventHandler, RequestHandler, RouteHandlers, SendOptions } from './server/connection.js'
export { DEFAULTS as PLUGIN_DEFAULTS } from './options.js'
export type { WireboxPluginOptions, WireboxRouteOptions, SharedOptions, CompressionOptions, RateLimitOptions, BackpressureOptions, UpgradeHook } from './options.js'
export { negotiate, parseSubprotocols } from './negotiation.js'
export type { Negotiated } from './negotiation.js'
export type { MetricsSnapshot } from './metrics.js'
export type { PublishOptions, PublishResult } from './topics/registry.js'
export { memoryBroker } from './brokers/memory.js'
export { HISTORY_DEFAULTS } from './brokers/broker.js'
export type { Broker, BrokerListener, TopicMessage, HistorySlice, HistoryOptions } from './brokers/broker.js'
