/**
 * The server side of bench/e2e (run in its own process): /raw echoes the bytes it receives (plain
 * ws, the floor); /plain is @fastify/websocket with JSON text frames and a hand-written echo; /wirebox is a wirebox route with `echo` and `echo.floats`
 * requests.
 */
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../lib/index.js'

const protocol = defineProtocol({
  requests: {
    echo: {
      payload: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), value: Type.Number(), tags: Type.Array(Type.String()) })) }),
      response: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), value: Type.Number(), tags: Type.Array(Type.String()) })) })
    },
    'echo.floats': {
      payload: Type.Object({ sensor: Type.String(), samples: Type.Array(Type.Number()) }),
      response: Type.Object({ sensor: Type.String(), samples: Type.Array(Type.Number()) })
    }
  }
})

const app = Fastify({ logger: false })
await app.register(wirebox, { rateLimit: false, heartbeatIntervalMs: 0 })
// The floor: ws echoing the bytes it received, no parse (the peer benchmark's ws-raw).
app.get('/raw', { websocket: true }, (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }))
})
app.get('/plain', { websocket: true }, (socket) => {
  socket.on('message', (data) => {
    const { id, payload } = JSON.parse(data.toString()) as { id: number, payload: unknown }
    socket.send(JSON.stringify({ id, type: 'response', payload }))
  })
})
app.wirebox('/wirebox', { protocol }, (connection) => {
  connection.handle('echo', (payload) => payload)
  connection.handle('echo.floats', (payload) => payload)
})
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as { port: number }
process.send?.({ port })
// The parent asks for this process's CPU time around each row.
process.on('message', () => process.send?.({ cpu: process.cpuUsage() }))
process.on('disconnect', () => { app.close().finally(() => process.exit(0)) })
