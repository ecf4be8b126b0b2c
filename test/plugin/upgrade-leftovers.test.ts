/**
 * An open connection does not keep what the upgrade left behind: the request, its reply and the
 * reply's ServerResponse can be collected once the route's setup ran, while the connection is
 * served on and logs through the request's logger; a socket error is still logged and closes the
 * connection, the server serving everyone else.
 */
import { test } from 'tap'
import type { Test } from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { WebSocket as WsClient } from 'ws'
import type { WebSocket } from 'ws'
import websocketPlugin from '@fastify/websocket'
import wirebox from '../../lib/index.js'
import { testProtocol } from './fixture.js'
import { TestClient, listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

setFlagsFromString('--expose_gc')
const gc = runInNewContext('gc') as () => void

/** Collects until `refs` are all cleared, or gives up after a few rounds. */
async function collected (refs: Array<WeakRef<object>>): Promise<boolean> {
  for (let i = 0; i < 20 && refs.some((r) => r.deref() !== undefined); i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  return refs.every((r) => r.deref() === undefined)
}

function logLines (): { stream: Writable, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  return { stream, lines }
}

/** Declares /ws on `app`, connects one client and returns the server's WebSocket of it. */
async function serverSocketOf (t: Test, app: FastifyInstance): Promise<WebSocket> {
  let socket: WebSocket | undefined
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => { socket = conn.socket })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  await until(() => socket !== undefined)
  return socket as WebSocket
}

test('the upgrade request, its reply and response are not kept by an open connection', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  const refs: Array<WeakRef<object>> = []
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    refs.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw), new WeakRef(reply.raw))
    done()
  })
  let setupRan = false
  app.wirebox('/ws', { protocol: testProtocol }, (conn, request) => {
    t.equal(typeof request.headers.host, 'string', 'the setup function gets the request')
    setupRan = true
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  await until(() => setupRan)
  t.equal(refs.length, 4)
  t.ok(await collected(refs), 'request, reply, IncomingMessage and ServerResponse were collected')
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 }, 'the connection is served on')
})

test('a socket error is logged with the request\'s log bindings and closes that connection only', async (t) => {
  const { stream, lines } = logLines()
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const bad = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  const good = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await Promise.all([bad.ready(), good.ready()])
  // A masked binary frame with RSV2 set: ws refuses it (no extension defines RSV2).
  const frame = Buffer.from([0xa2, 0x81, 1, 2, 3, 4, 0])
  ;(bad.ws as unknown as { _socket: { write: (b: Buffer) => void } })._socket.write(frame)
  t.equal(await bad.closed, 1002, 'the connection is closed with a protocol error')
  await until(() => lines.some((l) => l.msg === 'wirebox: socket error'))
  const logged = lines.find((l) => l.msg === 'wirebox: socket error') as Record<string, unknown>
  t.match(logged, { level: 40, reqId: /./, session: /./ }, 'logged once, a warning, with the request id and the session')
  t.match((logged.err as { message?: string } | undefined)?.message, /RSV2 and RSV3 must be clear/)
  t.equal(lines.filter((l) => l.msg === 'wirebox: socket error').length, 1)
  t.same((await good.request('math.add', { a: 2, b: 3 })).envelope?.payload, { sum: 5 }, 'the other connection is served')
})

test('an error listener the application put on the WebSocket is kept', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  const mine = (): void => {}
  app.websocketServer.on('connection', (ws: WebSocket) => { ws.on('error', mine) })
  const listeners = (await serverSocketOf(t, app)).listeners('error')
  t.ok(listeners.includes(mine), 'the application\'s listener is still there')
  t.equal(listeners.length, 2, 'beside the connection\'s own; @fastify/websocket\'s is gone')
})

test("a wirebox socket leaves the WebSocketServer's tracking; closing the app still closes it and the app's own sockets", async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  let socket: WebSocket | undefined
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => { socket = conn.socket })
  let plain: WebSocket | undefined
  app.get('/plain', { websocket: true }, (ws) => { plain = ws })
  const base = await listen(app)
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  const other = new WsClient(`${base}/plain`)
  const otherClosed = new Promise<number>((resolve) => other.on('close', (code: number) => resolve(code)))
  await until(() => socket !== undefined && plain !== undefined)
  const clients = app.websocketServer.clients
  t.notOk(clients.has(socket as WebSocket), 'not in the server\'s clients')
  t.equal((socket as WebSocket).listenerCount('close'), 1, 'one close listener: the connection\'s own')
  t.ok(clients.has(plain as WebSocket), 'a socket of an application route is tracked as before')
  await app.close()
  t.equal(await client.closed, 1001, 'the wirebox connection is closed going away')
  t.equal(await otherClosed, 1005, 'the application route\'s socket is closed by @fastify/websocket')
})

test('sockets stay tracked by a WebSocketServer the application registered', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(websocketPlugin)
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  t.ok(app.websocketServer.clients.has(await serverSocketOf(t, app)))
})

test("a close listener the server's WebSocket class adds in its constructor is kept; ws's own tracking is the one dropped", async (t) => {
  let closes = 0
  // ws's documented `WebSocket` option (a class extending ws's), passed through `websocket`.
  class Counted extends WsClient {
    constructor (...args: ConstructorParameters<typeof WsClient>) {
      super(...args)
      this.on('close', () => { closes++ })
    }
  }
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0, websocket: { WebSocket: Counted } })
  const socket = await serverSocketOf(t, app)
  t.ok(socket instanceof Counted)
  t.notOk(app.websocketServer.clients.has(socket), 'not in the server\'s clients')
  t.equal(socket.listenerCount('close'), 2, 'the class\'s listener and the connection\'s own')
  socket.close()
  await until(() => closes === 1)
  t.equal(closes, 1, 'the class\'s listener ran')
})
