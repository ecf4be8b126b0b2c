/**
 * `fastify-wirebox/client` in Node.js: the typed client with the global WebSocket where Node has
 * one (22 and later), else the `ws` package, and Node's zlib.
 */
import WebSocket from 'ws'
import { WireboxClient } from './client.js'
import type { ClientOptions, WebSocketClass } from './client.js'
import { nodePlatform } from '../platform/node.js'
import { validatePayload } from '../protocol.js'
import type { ProtocolDefinition } from '../protocol.js'

export * from './client.js'
export { errors, isWireboxError } from '../errors.js'

/** Connects a typed client to a wirebox route (`ws://host/ws`). */
export function createClient<P extends ProtocolDefinition = ProtocolDefinition> (url: string, options: ClientOptions<P> = {}): WireboxClient<P> {
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket ?? (WebSocket as unknown as WebSocketClass)
  return new WireboxClient<P>(url, { validator: validatePayload, ...options }, WebSocketImpl, options.platform ?? nodePlatform)
}
