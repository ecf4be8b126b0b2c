/**
 * The Fastify plugin: `fastify.register(wirebox, options)` decorates the instance with
 * `wirebox(path, routeOptions, setup)` to declare negotiated, typed, validated WebSocket routes
 * (each returns a typed publisher), `wirebox.publisher(protocol)` and the untyped
 * `wirebox.publish(topic, event, payload)` for topics, and `wirebox.metrics()`.
 */
import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { MessageDecoder, MessageEncoder } from './core/wire.js'
import type { DecoderOptions, WireSettings } from './core/wire.js'
import { CHUNK_HEADER_SIZE } from './core/constants.js'
import { compileLayout } from './core/compact/layout.js'
import type { CompactLayout } from './core/compact/layout.js'
import type { Encoding } from './core/codec.js'
import { PartialBudget } from './core/chunking.js'
import { nodePlatform } from './platform/node.js'
import { CloseCode, errors } from './errors.js'
import { protocolTables } from './protocol.js'
import type { Protocol, ProtocolDefinition, ProtocolTables } from './protocol.js'
import { WireboxConnection } from './server/connection.js'
import type { RouteContext } from './server/connection.js'
import type { RouteHandlers } from './server/connection.js'
import { handlerSlots, routeHandlers } from './server/inbound.js'
import { releaseUpgradeLeftovers, upgradeErrorListeners } from './server/upgrade-leftovers.js'
import type { TrackingServer } from './server/upgrade-leftovers.js'
import { negotiate, parseSubprotocols } from './negotiation.js'
import type { Negotiated } from './negotiation.js'
import { DEFAULTS, checkPluginOptions, checkRouteOptions, resolveOptions } from './options.js'
import type { UpgradeHook, WireboxPluginOptions, WireboxRouteOptions } from './options.js'
import { PluginMetrics, kMetrics } from './metrics.js'
import type { MetricsSnapshot } from './metrics.js'
import { Topics } from './topics/registry.js'
import { memoryBroker } from './brokers/memory.js'
import { protocolJsonSchema } from './schema/json-schema.js'
import { protocolAsyncApi } from './schema/asyncapi.js'
import type { PublishOptions, PublishResult } from './topics/registry.js'
import type { Broker } from './brokers/broker.js'
import { createPublisher, publishProblem } from './server/publisher.js'
import type { Publisher } from './server/publisher.js'
import { WS_HEADER_ROOM } from './server/ws-frames.js'

/** Sets up each new connection of a route: register handlers, subscribe, keep state. */
export type ConnectionSetup<P extends ProtocolDefinition> = (connection: WireboxConnection<P>, request: FastifyRequest) => void | Promise<void>

/** Route options with the subscription hook and the route's own handlers (`handle`, `on`). */
export interface WireboxRoute<P extends ProtocolDefinition> extends WireboxRouteOptions<P>, RouteHandlers<P> {
  /** Decides whether a client may SUBSCRIBE to a topic (default: allowed). Refusal: 0x203. */
  authorizeSubscribe?: (topic: string, connection: WireboxConnection<P>) => boolean | Promise<boolean>
}

/** `fastify.wirebox`: declares routes; has `publisher`, `publish`, `metrics` and `connections`. */
export interface WireboxDecorator {
  /**
   * Declares a route; returns the publisher of its protocol's server events. `setup` (optional)
   * runs for each new connection: what needs the connection or its request goes there.
   */
  <P extends ProtocolDefinition>(path: string, options: WireboxRoute<P>, setup?: ConnectionSetup<P>): Publisher<Protocol<P>>
  /** A publisher typed by `protocol`: only its server events, with their payload types. */
  publisher<P extends ProtocolDefinition> (protocol: P): Publisher<P>
  /**
   * Publishes an event to a topic: encoded once per variant, written to every subscriber.
   * Untyped (for names known only at run time): checked at run time against the routes'
   * protocols. Prefer `publisher(protocol)`.
   */
  publish (topic: string, event: string, payload: unknown, options?: PublishOptions): Promise<PublishResult>
  /** The topic broker (memory by default). */
  readonly broker: Broker
  /** Subscribers of a topic on this instance, across routes. */
  subscriberCount (topic: string): number
  /** Metrics: per route and in total. */
  metrics (): { total: MetricsSnapshot, routes: Record<string, MetricsSnapshot> }
  /** Open connections. */
  readonly connections: ReadonlySet<WireboxConnection>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Declares wirebox routes, publishes to topics, reads metrics. */
    wirebox: WireboxDecorator
  }
}

// Room for a frame header and a chunk header on top of the chunk size.
const HEADER_ROOM = 64

const plugin: FastifyPluginAsync<WireboxPluginOptions> = async (fastify, options) => {
  checkPluginOptions(options)
  const pluginOptions = resolveOptions(options)
  const connections = new Set<WireboxConnection>()
  // Before @fastify/websocket's own preClose (added after this one), which closes with 1005.
  fastify.addHook('preClose', (done) => {
    for (const connection of connections) connection.close(CloseCode.GOING_AWAY, 'server closing')
    done()
  })
  // Registered here (not by the application): its error handler is the default one.
  const ownsWebsocket = !fastify.hasDecorator('websocketServer')
  if (ownsWebsocket) {
    await fastify.register(websocket, {
      options: {
        // A sender chunks whatever is larger than the chunk size (PROTOCOL.md 2.4), so no frame is
        // larger than a chunk: large messages arrive chunked, where the partial-input budget sees them.
        maxPayload: Math.min(pluginOptions.chunkSize, pluginOptions.maxMessageSize) + HEADER_ROOM,
        handleProtocols: (offered: Set<string>) => parseSubprotocols([...offered])?.value ?? [...offered][0] ?? false,
        ...(options.websocket as Record<string, unknown> | undefined)
      }
    })
  }
  // Ours: the sockets of wirebox routes leave its tracking (upgrade-leftovers.ts).
  const wss: TrackingServer | undefined = ownsWebsocket ? fastify.websocketServer : undefined

  let ackIds = 0
  const nextAckId = (): number => {
    ackIds = (ackIds + 1) >>> 0 || 1
    return ackIds
  }
  const broker = options.broker ?? memoryBroker({ historySize: options.history?.size, historyTtlMs: options.history?.ttlMs })
  const partialBudget = new PartialBudget(options.maxPartialBytesTotal ?? DEFAULTS.maxPartialBytesTotal)
  const maxConnections = options.maxConnections ?? DEFAULTS.maxConnections
  const topics = new Topics(broker, nextAckId, { maxTopics: options.maxTopics ?? DEFAULTS.maxTopics },
    (err: unknown) => fastify.log.warn({ err }, 'wirebox: topic delivery problem'))
  const pluginMetrics = new PluginMetrics()
  const routeTables: ProtocolTables[] = []
  const publish = async (topic: string, event: string, payload: unknown, publishOptions?: PublishOptions): Promise<PublishResult> => {
    const wrong = publishProblem(routeTables, event)
    if (wrong !== undefined) throw wrong
    return await topics.publish(topic, event, payload, publishOptions)
  }

  function route<P extends ProtocolDefinition> (this: FastifyInstance, path: string, routeOptions: WireboxRoute<P>, setup?: ConnectionSetup<P>): Publisher<Protocol<P>> {
    const { authorizeSubscribe, handle, on, ...rest } = routeOptions
    checkRouteOptions(rest)
    if (authorizeSubscribe !== undefined && typeof authorizeSubscribe !== 'function') {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', '/authorizeSubscribe must be a function')
    }
    if (setup !== undefined && typeof setup !== 'function') throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route', 'the setup argument must be a function')
    if (pluginMetrics.routes.has(path)) throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route', `${path} is already declared`)
    // Checked before anything is declared: a refused route leaves nothing behind.
    const tables = protocolTables(routeOptions.protocol)
    const slots = handlerSlots(tables)
    const handlers = routeHandlers(tables, slots, handle, on)
    const { schemaRoutes, ...shared } = rest
    let resolved = resolveOptions(options, shared)
    // msgpack-compact needs the protocol's layout, compiled once for the route.
    let layout: CompactLayout | undefined
    if (resolved.encodings.includes('msgpack-compact')) {
      try {
        layout = compileLayout(routeOptions.protocol)
      } catch (err) {
        this.log.warn({ err, path }, 'wirebox: msgpack-compact is off for this route: its schemas have no compact layout')
        resolved = Object.freeze({ ...resolved, encodings: Object.freeze(resolved.encodings.filter((e) => e !== 'msgpack-compact')) as Encoding[] })
      }
    }
    if (resolved.chunkSize > pluginOptions.chunkSize) {
      throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox route options', `/chunkSize ${resolved.chunkSize} is above the plugin's ${pluginOptions.chunkSize}, which bounds WebSocket frames: set it on the plugin`)
    }
    const metrics = pluginMetrics.add(path)
    const encoders = new Map<string, MessageEncoder>()
    const decoderSettings = new Map<string, Readonly<WireSettings>>()
    // Checked once for the route, not again for each connection.
    const decoderOptions: DecoderOptions = Object.freeze({
      platform: nodePlatform,
      codec: resolved.codec,
      maxPartialMessages: resolved.maxPartialMessages,
      chunkTimeoutMs: resolved.chunkTimeoutMs,
      // A sender chunks what is larger than the chunk size (PROTOCOL.md 2.4).
      maxFrameSize: resolved.chunkSize + CHUNK_HEADER_SIZE,
      partialBudget,
      layout
    })
    const context: RouteContext = {
      path,
      options: resolved,
      ...tables,
      handlerSlots: slots,
      handlers,
      validateOutgoing: resolved.validateOutgoing,
      metrics,
      topics,
      nextAckId,
      partialBudget,
      layout,
      authorizeSubscribe: authorizeSubscribe as RouteContext['authorizeSubscribe'],
      encoderFor (negotiated: Negotiated): MessageEncoder {
        const key = `${negotiated.encoding}.${negotiated.version}.${negotiated.compression}`
        let encoder = encoders.get(key)
        if (encoder === undefined) {
          encoder = new MessageEncoder({
            encoding: negotiated.encoding,
            version: negotiated.version,
            compression: negotiated.compression,
            compressionThreshold: resolved.compression.threshold,
            compressionLevel: resolved.compression.level,
            compressionMinSavings: resolved.compression.minSavings,
            chunkSize: resolved.chunkSize,
            maxMessageSize: resolved.maxMessageSize
          }, { platform: nodePlatform, codec: resolved.codec, layout, transportRoom: WS_HEADER_ROOM })
          encoders.set(key, encoder)
        }
        return encoder
      },
      decoderFor (negotiated: Negotiated): MessageDecoder {
        const key = `${negotiated.encoding}.${negotiated.version}.${negotiated.compression}`
        let settings = decoderSettings.get(key)
        if (settings === undefined) {
          settings = Object.freeze({ encoding: negotiated.encoding, version: negotiated.version, compression: negotiated.compression, maxMessageSize: resolved.maxMessageSize })
          decoderSettings.set(key, settings)
        }
        return new MessageDecoder(settings, decoderOptions)
      },
      forget (connection) {
        connections.delete(connection)
      }
    }
    routeTables.push(context)
    // Topic messages are the server's: published names and payloads are checked against those.
    topics.addRoute({ events: context.fromServer, validateOutgoing: context.validateOutgoing })

    const hooks: UpgradeHook[] = [async (request: FastifyRequest, reply: FastifyReply) => {
      if (connections.size < maxConnections) return
      request.log.warn({ connections: connections.size }, 'wirebox: connection refused, maxConnections reached')
      metrics.error('WIREBOX_ERR_TOO_MANY_CONNECTIONS')
      return await reply.code(503).header('retry-after', '5').send({ code: 'WIREBOX_ERR_TOO_MANY_CONNECTIONS', message: new errors.WIREBOX_ERR_TOO_MANY_CONNECTIONS(maxConnections).message })
    }]
    if (resolved.allowedOrigins !== undefined) {
      const allowed = new Set(resolved.allowedOrigins)
      hooks.push(async (request: FastifyRequest, reply: FastifyReply) => {
        const origin = request.headers.origin
        if (origin !== undefined && !allowed.has(origin)) {
          request.log.warn({ origin }, 'wirebox: origin rejected')
          metrics.error('WIREBOX_ERR_ORIGIN_REJECTED')
          return reply.code(403).send({ code: 'WIREBOX_ERR_ORIGIN_REJECTED', message: new errors.WIREBOX_ERR_ORIGIN_REJECTED(origin).message })
        }
      })
    }
    const userHooks = rest.preValidation
    if (userHooks !== undefined) hooks.push(...(Array.isArray(userHooks) ? userHooks : [userHooks]))

    if (schemaRoutes === true) {
      const base = path.endsWith('/') ? path.slice(0, -1) : path
      const documentOptions = { title: `wirebox route ${path}`, path }
      const jsonSchema = protocolJsonSchema(routeOptions.protocol, documentOptions)
      const asyncApi = protocolAsyncApi(routeOptions.protocol, documentOptions)
      this.get(`${base}/schema.json`, async (_request, reply) => await reply.type('application/schema+json').send(jsonSchema))
      this.get(`${base}/asyncapi.json`, async (_request, reply) => await reply.type('application/json').send(asyncApi))
    }

    this.route({
      method: 'GET',
      url: path,
      ...(hooks.length === 0 ? {} : { preValidation: hooks }),
      handler: async (_request: FastifyRequest, reply: FastifyReply) => await reply.code(426).header('upgrade', 'websocket').send({ message: 'Upgrade Required: this is a wirebox WebSocket route' }),
      wsHandler: (socket: WebSocket, request: FastifyRequest) => {
        const leftovers = upgradeErrorListeners(socket, ownsWebsocket)
        const negotiation = negotiate(request.query as Record<string, unknown>, request.headers['sec-websocket-protocol'], resolved)
        const connection = new WireboxConnection<P>(socket, request.log, negotiation.negotiated, context)
        releaseUpgradeLeftovers(socket, request, leftovers, wss)
        if (!negotiation.ok) {
          request.log.info({ err: negotiation.error.message }, 'wirebox: version refused')
          connection.refuse(negotiation.error, negotiation.negotiated)
          return
        }
        connections.add(connection as unknown as WireboxConnection)
        request.log.debug({ session: connection.id, ...negotiation.negotiated }, 'wirebox: negotiated')
        connection.sendNegotiation(negotiation.negotiated)
        if (setup === undefined) return
        Promise.resolve()
          .then(() => setup(connection, request))
          .catch((err: unknown) => {
            request.log.error({ err, session: connection.id }, 'wirebox: route setup failed')
            connection.close(CloseCode.INTERNAL_ERROR, 'setup failed')
          })
      }
    })
    return createPublisher(routeOptions.protocol, publish)
  }

  const decorator = Object.assign(route, {
    publisher: <P extends ProtocolDefinition>(protocol: P): Publisher<P> => createPublisher(protocol, publish),
    publish,
    subscriberCount: (topic: string): number => topics.count(topic),
    broker,
    metrics: () => pluginMetrics.snapshot(),
    connections: connections as ReadonlySet<WireboxConnection>,
    [kMetrics]: pluginMetrics
  }) as unknown as WireboxDecorator
  fastify.decorate('wirebox', decorator)

  if (options.metricsRoute !== undefined) {
    fastify.get(options.metricsRoute, async (_request, reply) =>
      await reply.type('text/plain; version=0.0.4; charset=utf-8').send(pluginMetrics.prometheus()))
  }

  fastify.addHook('onClose', async () => {
    await broker.close()
  })
}

/** The plugin. */
export const wirebox = fp(plugin, { name: 'fastify-wirebox', fastify: '5.x' })
export default wirebox
