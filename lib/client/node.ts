/**
 * `fastify-wirebox/client` in Node.js: the typed client with the global WebSocket where Node has
 * one (22 and later), else the `ws` package, and Node's zlib.
 */
import WebSocket from 'ws'
import { WireboxClient } from './client.js'
import type { ClientOptions, ClientRuntime, WebSocketClass, WebSocketLike } from './client.js'
import { attachHandlers, ignoreError } from './connection.js'
import type { Connection } from './connection.js'
import { kConnection } from './symbols.js'
import { nodePlatform } from '../platform/node.js'
import { coalesceWrites } from '../platform/coalesce-writes.js'
import { validatePayload } from '../protocol.js'
import type { ProtocolDefinition } from '../protocol.js'

export * from './client.js'
export { errors, isWireboxError } from '../errors.js'

type WsSocket = WebSocket & { [kConnection]: Connection }

/**
 * A `ws` socket is listened to through its own EventEmitter API, by listeners every connection
 * shares (they find the connection on the socket): through the WebSocket API's handler
 * properties, `ws` would wrap each handler of each connection in a closure of its own, and make
 * an event object per message. Any other WebSocket gets the handler properties.
 */
export function attachWs (connection: Connection, socket: WebSocketLike): void {
  if (!(socket instanceof WebSocket)) return attachHandlers(connection, socket)
  const ws = socket as WsSocket
  ws[kConnection] = connection
  ws.on('message', onWsMessage)
  ws.on('close', onWsClose)
  ws.on('error', ignoreError)
}

// The socket whose chunk is being read in this tick (reset at the next tick).
let reading: WebSocket | undefined
function readDone (): void {
  reading = undefined
}

function onWsMessage (this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  // From the second message of a chunk on, what the messages set off (the next request of a
  // caller awaiting its reply, in a promise job) goes out together, in one write. A lone reply's
  // next request is written at once.
  if (reading === this) {
    coalesceWrites(this, true)
  } else {
    if (reading === undefined) process.nextTick(readDone)
    reading = this
  }
  // As the WebSocket API has it: a text message is a string (ws checked its UTF-8).
  const connection = (this as WsSocket)[kConnection]
  connection.message(isBinary ? data : data.toString())
}

function onWsClose (this: WebSocket, code: number): void {
  (this as WsSocket)[kConnection].closed(code)
}

/** What every Node client shares: the schema validator, and how `ws` sockets are listened to. */
const NODE_RUNTIME: ClientRuntime = Object.freeze({ validator: validatePayload, attach: attachWs })

/** Connects a typed client to a wirebox route (`ws://host/ws`). */
export function createClient<P extends ProtocolDefinition = ProtocolDefinition> (url: string, options: ClientOptions<P> = {}): WireboxClient<P> {
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket ?? (WebSocket as unknown as WebSocketClass)
  return new WireboxClient<P>(url, options, WebSocketImpl, options.platform ?? nodePlatform, NODE_RUNTIME)
}
