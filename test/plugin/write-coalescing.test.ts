/**
 * The answers to the messages ws reads from one chunk reach the TCP socket together, in order:
 * one system call for all of them, not one each.
 */
import { test } from 'tap'
import type { Socket } from 'node:net'
import Fastify from 'fastify'
import wirebox from '../../lib/index.js'
import type { WireboxConnection } from '../../lib/index.js'
import { testProtocol } from './fixture.js'
import { TestClient, MessageType, listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

const tcpOf = (ws: unknown): Socket => (ws as { _socket: Socket })._socket

test('requests read in one chunk are answered in one write, in order', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  let server: WireboxConnection | undefined
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    server = conn as unknown as WireboxConnection
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await client.ready()
  await until(() => server !== undefined)

  // Count what the server's TCP socket hands to the system: one call per _write or _writev.
  const tcp = tcpOf((server as WireboxConnection).socket) as Socket & { _write: (...a: unknown[]) => void, _writev?: (...a: unknown[]) => void }
  const calls: number[] = []
  const write = tcp._write.bind(tcp)
  const writev = tcp._writev?.bind(tcp)
  tcp._write = (...args: unknown[]) => { calls.push(1); write(...args) }
  if (writev !== undefined) tcp._writev = (chunks: unknown, cb: unknown) => { calls.push((chunks as unknown[]).length); writev(chunks, cb) }

  // Eight requests in one TCP write from the client, so the server reads them in one chunk.
  const N = 8
  const clientTcp = tcpOf(client.ws)
  clientTcp.cork()
  await Promise.all(Array.from({ length: N }, async (_, i) => await client.send(MessageType.REQUEST, { event_type: 'math.add', id: 100 + i, payload: { a: i, b: 1 } })))
  clientTcp.uncork()
  await until(() => client.ofType(MessageType.RESPONSE).length === N)

  const responses = client.ofType(MessageType.RESPONSE)
  t.same(responses.map((m) => m.envelope?.id), Array.from({ length: N }, (_, i) => 100 + i), 'answered in order')
  t.same(responses.map((m) => m.envelope?.payload), Array.from({ length: N }, (_, i) => ({ sum: i + 1 })))
  t.equal(calls.reduce((a, b) => a + b, 0), N, 'every answer was written')
  t.ok(calls.length < N, `fewer system writes than answers (${calls.length} for ${N})`)
  t.equal(tcp.writableCorked, 0, 'the socket is not left corked')

  // A message on its own is written at once, as before.
  calls.length = 0
  t.same((await client.request('math.add', { a: 2, b: 2 })).envelope?.payload, { sum: 4 })
  t.same(calls, [1], 'one write for one answer')
})
