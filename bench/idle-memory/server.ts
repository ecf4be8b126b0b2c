/**
 * The server side of bench/idle-memory (its own process, run with --expose-gc): `ws` is a plain
 * WebSocketServer that echoes (the floor, as the peer benchmark's ws-raw); `wirebox` and
 * `wirebox-lean` are a wirebox route with its handlers on the route, with the defaults and with
 * heartbeat and rate limit off (as the peer benchmark runs it).
 */
import { once } from 'node:events'
import Fastify from 'fastify'
import { WebSocketServer } from 'ws'
import wirebox from '../../lib/index.js'
import { memory, protocol } from './shared.js'

const kind = process.argv[2]
let url: string
if (kind === 'ws') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  })
  url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`
} else {
  const app = Fastify({ logger: false })
  await app.register(wirebox, kind === 'wirebox-lean' ? { heartbeatIntervalMs: 0, rateLimit: false } : {})
  app.wirebox('/ws', { protocol, handle: { echo: (payload) => payload } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
}
process.on('message', () => { memory().then((heap) => process.send?.({ heap }), () => process.exit(1)) })
process.on('disconnect', () => process.exit(0))
process.send?.({ url })
