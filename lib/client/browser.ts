/**
 * `fastify-wirebox/client` in browsers: the typed client with the native WebSocket and the web
 * platform (Compression Streams, `crc-32`). No `node:` imports.
 */
import { WireboxClient } from './client.js'
import type { ClientOptions, WebSocketClass } from './client.js'
import { webPlatform } from '../platform/web.js'
import type { ProtocolDefinition } from '../protocol.js'

export * from './client.js'
export { errors, isWireboxError } from '../errors.js'

/** Connects a typed client to a wirebox route (`ws://host/ws`). */
export function createClient<P extends ProtocolDefinition = ProtocolDefinition> (url: string, options: ClientOptions<P> = {}): WireboxClient<P> {
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket
  if (WebSocketImpl === undefined) throw new TypeError('No WebSocket implementation: pass options.WebSocket')
  return new WireboxClient<P>(url, options, WebSocketImpl, options.platform ?? webPlatform)
}
