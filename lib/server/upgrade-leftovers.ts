/**
 * What the upgrade leaves behind on an open connection, released.
 *
 * @fastify/websocket routes the upgrade through Fastify with a ServerResponse it assigns to the
 * TCP socket, and gives the WebSocket an 'error' listener that closes over the request and its
 * reply. Nothing reads either after the upgrade, yet both live as long as the connection: the
 * response, its reply, their streams' state and closures, ~1 KB per idle connection. The
 * connection keeps only the request's logger and listens for errors itself.
 *
 * The WebSocketServer also tracks every socket it upgrades: an entry in its `clients` and a
 * 'close' listener that takes it out again (~130 B per connection). The plugin tracks its
 * connections itself and closes them in its own preClose hook, so a wirebox socket is taken out
 * of that tracking when the plugin registered @fastify/websocket (an application's server, with
 * routes of its own, is left as it is).
 */
import { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { FastifyRequest } from 'fastify'

/**
 * The route's error listeners as the upgrade left them: taken before the connection adds its own,
 * dropped by `releaseUpgradeLeftovers` once it has (a WebSocket is never without one: an 'error'
 * with no listener would throw). Only when `ownErrors`: the plugin registered @fastify/websocket,
 * so its error handler is the default one (log and terminate), which the connection's own
 * listener and ws's closing of the socket cover; an application's own errorHandler is kept.
 */
export function upgradeErrorListeners (socket: WebSocket, ownErrors: boolean): Function[] {
  // @fastify/websocket adds its listener last, right before it calls the route: listeners the
  // application added on the server's 'connection' event come before it and are kept.
  return ownErrors ? socket.listeners('error').slice(-1) : []
}

/** What the WebSocketServer keeps of the sockets it upgraded (undefined with `clientTracking: false`). */
export interface TrackingServer {
  readonly clients?: Set<WebSocket>
}

/**
 * Drops `listeners` (see upgradeErrorListeners), detaches the upgrade's ServerResponse from the
 * TCP socket and, given the `server` that upgraded it, takes the socket out of its tracking.
 */
export function releaseUpgradeLeftovers (socket: WebSocket, request: FastifyRequest, listeners: Function[], server?: TrackingServer): void {
  for (const listener of listeners) socket.removeListener('error', listener as (err: Error) => void)
  const clients = server?.clients
  if (clients?.has(socket) === true) {
    // ws's listener that takes a tracked socket out of `clients`. Not found by its place: a
    // WebSocket class given in ws's `WebSocket` option may add close listeners before it, in its
    // constructor. Not recognised (another ws): the socket stays tracked, as it was.
    const untrack = socket.listeners('close').find(isUntrack) as ((...args: unknown[]) => void) | undefined
    if (untrack !== undefined) {
      clients.delete(socket)
      socket.removeListener('close', untrack)
    }
  }
  const tcp = request.raw.socket as (Socket & { _httpMessage?: unknown }) | null
  const response = tcp?._httpMessage
  if (tcp != null && response instanceof ServerResponse) response.detachSocket(tcp)
}

// ws (8.x) completeUpgrade's `ws.on('close', () => { this.clients.delete(ws); if (this._shouldEmitClose
// ...) })`: recognised by ws's own private name, not by a `clients.delete` an application may write.
function isUntrack (listener: Function): boolean {
  const source = Function.prototype.toString.call(listener)
  return source.includes('this.clients.delete(') && source.includes('this._shouldEmitClose')
}
