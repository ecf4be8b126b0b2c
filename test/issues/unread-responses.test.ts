/**
 * Issue 9, item 3: a client that sends requests and never reads the responses grew the server
 * without bound (60 requests for 1M-sample uncompressed histories: +482 MB). While a
 * connection's send buffer is above its high-water mark the server reads nothing more from it,
 * so an unread client costs about one high-water mark plus what was in flight; it gets every
 * answer once it reads, and other clients are served meanwhile.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import type { WireboxConnection } from '../../lib/index.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

const protocol = defineProtocol({
  requests: {
    history: { payload: Type.Object({ samples: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }), response: Type.Object({ signal: Type.Array(Type.Number()) }) }
  }
})

test('60 large requests from a client that does not read: bounded, then all answered', async (t) => {
  const highWaterMark = 1024 * 1024
  let handled = 0
  const app = Fastify({ logger: false })
  await app.register(wirebox, { backpressure: { highWaterMark }, rateLimit: false, validateOutgoing: false })
  app.wirebox('/ws', { protocol }, (conn) => {
    conn.handle('history', ({ samples }) => {
      handled++
      return { signal: Array.from({ length: samples }, (_, i) => i + 0.25) }
    })
  })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const greedy = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await greedy.ready()
  const socket = (greedy.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  for (let id = 1; id <= 60; id++) await greedy.send(MessageType.REQUEST, { event_type: 'history', id, payload: { samples: 200_000 } }) // ~1.8 MB each
  const server = [...app.wirebox.connections][0] as WireboxConnection
  let peak = 0
  for (let i = 0; i < 40; i++) {
    peak = Math.max(peak, server.socket.bufferedAmount)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  t.ok(handled < 10, `the server stopped reading: ${handled} of 60 requests handled while nothing was read`)
  t.ok(peak < highWaterMark + 3 * 1.9e6, `the send buffer peaked at ${peak} bytes (one high-water mark plus what was in flight)`)
  const bystander = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  t.equal((await bystander.request('history', { samples: 3 })).type, MessageType.RESPONSE, 'another client is served meanwhile')
  socket.resume()
  await greedy.next(() => greedy.ofType(MessageType.RESPONSE).length === 60, 30_000)
  t.same(greedy.ofType(MessageType.RESPONSE).map((m) => m.envelope?.id).sort((a, b) => (a as number) - (b as number)), Array.from({ length: 60 }, (_, i) => i + 1), 'every request answered once it reads')
  greedy.close()
  bystander.close()
})
