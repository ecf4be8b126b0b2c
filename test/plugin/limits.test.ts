import { test } from 'tap'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, Flag, shutdown, listen } from './test-client.js'
import { MessageEncoder, nodePlatform } from '../../lib/index.js'
import type { ErrorPayload, WireboxConnection } from '../../lib/index.js'
import { rawFrame } from '../helpers.js'

const codeOf = (m: { envelope?: { payload?: unknown } }): number => (m.envelope?.payload as ErrorPayload).code
const serverSide = (app: Awaited<ReturnType<typeof buildApp>>): WireboxConnection[] => [...app.wirebox.connections]

test('rate limit: over-limit messages get 0x204, sustained abuse closes with 1008', async (t) => {
  const app = await buildApp({ rateLimit: { messagesPerSecond: 5, burstMessages: 5, closeAfter: 10 } })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  for (let i = 0; i < 8; i++) await client.send(MessageType.PING, { event_type: 'ping', id: i })
  await client.next((m) => m.type === MessageType.ERROR)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(client.ofType(MessageType.PONG).length, 5, 'the burst passes')
  t.equal(client.ofType(MessageType.ERROR).filter((m) => codeOf(m) === 0x204).length, 3, 'the rest is refused with 0x204')
  for (let i = 0; i < 20; i++) await client.send(MessageType.PING, { event_type: 'ping' })
  t.equal(await client.closed, 1008, 'closed for sustained abuse')
  t.ok((app.wirebox.metrics().total.errors['0x204'] ?? 0) >= 10)
})

test('rate limit on bytes: a message over the byte budget is refused', async (t) => {
  const app = await buildApp({ rateLimit: { bytesPerSecond: 1000, burstBytes: 1000 } })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack&compression=none')
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 })
  await client.send(MessageType.REQUEST, { event_type: 'data.range', id: 2, payload: { count: 1, pad: 'x'.repeat(2000) } })
  const refused = await client.next((m) => m.type === MessageType.ERROR)
  t.equal(codeOf(refused), 0x204, 'refused before decoding (so without the request id)')
})

test('heartbeat: pings at the interval; a silent peer is terminated, a live one is not', async (t) => {
  const app = await buildApp({ heartbeatIntervalMs: 80 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const silent = await TestClient.connect(`${base}/ws?encoding=json`)
  const alive = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  alive.ws.on('message', () => { alive.send(MessageType.PONG, { event_type: 'pong' }).catch(() => {}) })
  t.equal(await silent.closed, 1006, 'terminated (no close handshake)')
  t.ok(silent.ofType(MessageType.PING).length >= 1, 'it was pinged first')
  t.equal(alive.closeCode, undefined, 'the live peer is still connected')
  t.same((await alive.request('math.add', { a: 1, b: 1 })).envelope?.payload, { sum: 2 })
})

test('back-pressure, drop policy: a client that stops reading keeps server memory bounded; PRIORITY is never dropped', async (t) => {
  const highWaterMark = 256 * 1024
  const app = await buildApp({ backpressure: { highWaterMark, policy: 'drop' }, validateOutgoing: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const slow = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  const fast = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await slow.ready()
  await fast.ready()
  const socket = (slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  const [server] = serverSide(app).filter((c) => c.socket.readyState === 1).slice(0, 1)
  t.ok(server)
  const values = Array.from({ length: 8000 }, (_, i) => i + 0.5) // ~72 KB a message
  const sent = { normal: 0, priority: 0 }
  let maxBuffered = 0
  const slowServer = serverSide(app)[0] as unknown as WireboxConnection<never>
  for (let i = 0; i < 300; i++) {
    const priority = i % 50 === 0
    await (slowServer as unknown as WireboxConnection).send('bulk.data' as never, { values } as never, { priority })
    if (priority) sent.priority++
    else sent.normal++
    maxBuffered = Math.max(maxBuffered, slowServer.socket.bufferedAmount)
  }
  const dropped = app.wirebox.metrics().total.dropped
  t.ok(dropped > 150, `${dropped} non-priority messages dropped and counted`)
  t.ok(maxBuffered < highWaterMark + 8 * 80_000, `send buffer stayed bounded (max ${maxBuffered} bytes)`)
  t.same((await fast.request('math.add', { a: 2, b: 2 })).envelope?.payload, { sum: 4 }, 'the other client is not slowed down')
  socket.resume()
  await slow.next((m) => m.type === MessageType.EVENT && m.envelope?.event_type === 'bulk.data' && (m.flags & Flag.PRIORITY) !== 0 && slow.ofType(MessageType.EVENT).filter((e) => (e.flags & Flag.PRIORITY) !== 0).length === sent.priority, 10_000)
  const received = slow.ofType(MessageType.EVENT)
  t.equal(received.filter((m) => (m.flags & Flag.PRIORITY) !== 0).length, sent.priority, 'every PRIORITY message arrived')
  t.equal(received.length, 300 - dropped, 'everything not counted as dropped arrived')
})

test('back-pressure, close policy: the slow consumer is closed with 1013', async (t) => {
  const app = await buildApp({ backpressure: { highWaterMark: 64 * 1024, policy: 'close' }, validateOutgoing: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const slow = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await slow.ready()
  ;(slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket.pause()
  const server = serverSide(app)[0] as WireboxConnection
  const values = Array.from({ length: 8000 }, (_, i) => i + 0.5)
  const results: boolean[] = []
  for (let i = 0; i < 100 && !server.closed; i++) results.push(await server.send('bulk.data' as never, { values } as never))
  t.ok(results.includes(false), 'sends fail once the policy applies')
  ;(slow.ws as unknown as { _socket: { resume: () => void } })._socket.resume()
  t.equal(await slow.closed, 1013)
})

test('malformed frames get catalog errors and leave other clients untouched', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const bad = await TestClient.connect(`${base}/ws?encoding=messagepack&version=3`)
  const good = await TestClient.connect(`${base}/ws?encoding=messagepack&version=3`)
  await bad.ready()
  await good.ready()
  const body = Buffer.from('81a16101', 'hex')
  bad.ws.send(rawFrame({ version: 3, type: 1, payload: body, checksum: 1 }))
  t.equal(codeOf(await bad.next((m) => m.type === MessageType.ERROR)), 0x101, 'checksum mismatch: ERROR, still open')
  bad.ws.send(rawFrame({ version: 3, type: 0x42, payload: body }))
  t.equal(codeOf(await bad.next((m) => m.type === MessageType.ERROR && codeOf(m) === 0x104)), 0x104)
  bad.ws.send(Buffer.from('92c1', 'hex'))
  const error = await bad.next((m) => m.type === MessageType.ERROR && codeOf(m) === 0x100)
  t.ok(error, 'an unknown version byte: 0x100')
  t.equal(await bad.closed, 1002, 'then the connection closes')
  t.same((await good.request('math.add', { a: 20, b: 22 })).envelope?.payload, { sum: 42 }, 'the other client is untouched')
})

test('incomplete chunked messages expire with an error', async (t) => {
  const app = await buildApp({ chunkTimeoutMs: 100, heartbeatIntervalMs: 0 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack&version=3&compression=none`)
  await client.ready()
  const encoder = new MessageEncoder({ encoding: 'messagepack', version: 3, compression: 'none', chunkSize: 64 }, { platform: nodePlatform })
  const frames = await encoder.encode({ type: MessageType.REQUEST, envelope: { event_type: 'math.add', timestamp: Date.now(), id: 1, payload: { a: 1, b: 2, pad: 'x'.repeat(200) } } })
  t.ok(frames.length > 1)
  client.ws.send(frames[0] as Uint8Array)
  const expired = await client.next((m) => m.type === MessageType.ERROR)
  t.equal(codeOf(expired), 0x200)
  t.match((expired.envelope?.payload as ErrorPayload).message, /not completed within 100 ms/)
})

test('authentication in preValidation and allowedOrigins refuse before the upgrade', async (t) => {
  const app = await buildApp({ allowedOrigins: ['https://ecg.example'] }, {
    preValidation: async (request, reply) => {
      if (request.headers.authorization !== 'Bearer good') await reply.code(401).send({ message: 'no' })
    }
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  await t.rejects(TestClient.connect(`${base}/ws`, undefined, { origin: 'https://ecg.example' }), /HTTP 401/)
  await t.rejects(TestClient.connect(`${base}/ws`, undefined, { authorization: 'Bearer good', origin: 'https://evil.example' }), /HTTP 403/)
  const ok = await TestClient.connect(`${base}/ws`, undefined, { authorization: 'Bearer good', origin: 'https://ecg.example' })
  t.equal((await ok.ready()).encoding, 'json')
  t.equal(app.wirebox.metrics().total.connectionsTotal, 1, 'refused connections never upgraded')
})
