/**
 * The answers to the messages ws reads from one chunk reach the TCP socket together, in order:
 * one system call for all of them, not one each; on a Node client, the requests that replies
 * read in one chunk set off, likewise.
 */
import { test } from 'tap'
import type { Socket } from 'node:net'
import Fastify from 'fastify'
import type { Test } from 'tap'
import { Type } from '@sinclair/typebox'
import WebSocket from 'ws'
import { createClient } from '../../lib/client/node.js'
import type { WebSocketClass } from '../../lib/client/node.js'
import wirebox, { defineProtocol } from '../../lib/index.js'
import type { WireboxConnection } from '../../lib/index.js'
import { testProtocol } from './fixture.js'
import { TestClient, MessageType, listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

const tcpOf = (ws: unknown): Socket => (ws as { _socket: Socket })._socket

/** Counts what `tcp` hands to the system: an entry per _write or _writev call, its number of chunks. */
function countWrites (socket: Socket): number[] {
  const tcp = socket as Socket & { _write: (...a: unknown[]) => void, _writev?: (...a: unknown[]) => void }
  const calls: number[] = []
  const write = tcp._write.bind(tcp)
  const writev = tcp._writev?.bind(tcp)
  tcp._write = (...args: unknown[]) => { calls.push(1); write(...args) }
  if (writev !== undefined) tcp._writev = (chunks: unknown, cb: unknown) => { calls.push((chunks as unknown[]).length); writev(chunks, cb) }
  return calls
}

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

  const tcp = tcpOf((server as WireboxConnection).socket)
  const calls = countWrites(tcp)

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

test('a Node client: the requests that replies read in one chunk set off go out in one write', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  // The `ws` sockets the client makes, to watch the writes of its TCP socket.
  const made: WebSocket[] = []
  class Tracked extends WebSocket {
    constructor (...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      made.push(this)
    }
  }
  const client = createClient(`${base}/ws`, { protocol: testProtocol, encoding: 'messagepack', compression: 'none', reconnect: false, WebSocket: Tracked as unknown as WebSocketClass })
  t.teardown(() => client.close())
  await client.ready()
  const tcp = tcpOf(made[0])
  const calls = countWrites(tcp)

  // A first wave sent in one write (so the server reads it in one chunk and answers in one),
  // each reply setting off a second request.
  const N = 8
  let second = false
  tcp.cork()
  const chains = Array.from({ length: N }, async (_, i) => {
    const first = await client.request('math.add', { a: i, b: 0 })
    second = true
    const next = await client.request('math.add', { a: first.sum, b: 100 })
    return next.sum
  })
  await new Promise((resolve) => setImmediate(resolve))
  tcp.uncork()
  const firstWave = calls.length
  t.same(await Promise.all(chains), Array.from({ length: N }, (_, i) => i + 100), 'every chain answered')
  t.ok(second)
  const secondWave = calls.slice(firstWave)
  t.equal(secondWave.reduce((a, b) => a + b, 0), N, 'every second request was written')
  t.ok(secondWave.length < N, `in fewer writes than requests (${secondWave.length} for ${N})`)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(tcp.writableCorked, 0, 'the socket is not left corked past the poll phase')

  // A lone reply: what it sets off is written at once, not held for the poll phase.
  t.same(await client.request('math.add', { a: 1, b: 1 }), { sum: 2 })
  t.equal(tcp.writableCorked, 0, 'not corked after a reply that came alone')
})

// Answers held back to be written together are not a client that does not read: back-pressure
// writes them before it judges the send buffer.
const bigProtocol = defineProtocol({
  events: { note: Type.Object({ s: Type.String() }) },
  requests: { big: { payload: Type.Object({ n: Type.Integer() }), response: Type.Object({ s: Type.String() }) } }
})

async function bigAnswers (t: Test, policy: 'drop' | 'close'): Promise<{ client: TestClient, sent: boolean[], pauses: number[] }> {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0, backpressure: { highWaterMark: 64 * 1024, policy } })
  let server: WireboxConnection | undefined
  const sent: boolean[] = []
  app.wirebox('/ws', { protocol: bigProtocol }, (conn) => {
    server = conn as unknown as WireboxConnection
    conn.handle('big', ({ n }) => {
      conn.send('note', { s: 'hi' }).then((ok) => sent.push(ok), () => sent.push(false))
      return { s: 'x'.repeat(n) }
    })
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await client.ready()
  await until(() => server !== undefined)
  const ws = (server as WireboxConnection).socket
  const pauses: number[] = []
  const pause = ws.pause.bind(ws)
  ws.pause = () => { pauses.push(ws.bufferedAmount); pause() }
  // 16 requests in one chunk, each answered with 10 KB: 160 KB against a 64 KiB high-water mark.
  const clientTcp = tcpOf(client.ws)
  clientTcp.cork()
  await Promise.all(Array.from({ length: 16 }, async (_, i) => await client.send(MessageType.REQUEST, { event_type: 'big', id: 100 + i, payload: { n: 10_000 } })))
  clientTcp.uncork()
  await until(() => (client.ofType(MessageType.RESPONSE).length === 16 && sent.length === 16) || client.closeCode !== undefined)
  return { client, sent, pauses }
}

test('policy close: a client that reads every answer of a large batch is not closed as a slow consumer', async (t) => {
  const { client } = await bigAnswers(t, 'close')
  t.equal(client.closeCode, undefined, 'still open')
  t.equal(client.ofType(MessageType.RESPONSE).length, 16, 'every request answered')
})

test('policy drop: a client that reads every answer of a large batch loses no event and is never paused', async (t) => {
  const { client, sent, pauses } = await bigAnswers(t, 'drop')
  t.equal(client.ofType(MessageType.RESPONSE).length, 16, 'every request answered')
  t.same(sent, Array.from({ length: 16 }, () => true), 'no event dropped')
  t.same(pauses, [], 'reading never paused for back-pressure')
})
