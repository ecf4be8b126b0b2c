import { test } from 'tap'
import Fastify from 'fastify'
import wirebox from '../../lib/index.js'
import { buildApp, testProtocol } from './fixture.js'
import { TestClient, MessageType, Flag, shutdown, listen } from './test-client.js'
import type { ErrorPayload } from '../../lib/index.js'

const errorOf = (m: { envelope?: { payload?: unknown } }): ErrorPayload => m.envelope?.payload as ErrorPayload

test('requests and events over real sockets in every encoding, version and compression', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  for (const encoding of ['messagepack', 'json']) {
    for (const version of [1, 2, 3]) {
      for (const compression of ['gzip', 'deflate', 'none']) {
        const client = await TestClient.connect(`${base}/ws?encoding=${encoding}&version=${version}&compression=${compression}`)
        await client.ready()
        t.same((await client.request('math.add', { a: 1.5, b: 2 })).envelope?.payload, { sum: 3.5 })
        // a large response: compressed (v2+) and chunked (256 KiB chunks)
        const big = await client.request('data.range', { count: 100_000 })
        t.equal((big.envelope?.payload as { values: number[] }).values.length, 100_000)
        t.equal((big.envelope?.payload as { values: number[] }).values[99_999], 49_999.5)
        t.equal((big.flags & Flag.COMPRESSED) !== 0, version > 1 && compression !== 'none', `${encoding} v${version} ${compression}: compressed iff negotiated`)
        await client.send(MessageType.EVENT, { event_type: 'chat.message', payload: { room: 'r1', text: 'hello' } })
        const echo = await client.next((m) => m.envelope?.event_type === 'chat.echo')
        t.same(echo.envelope?.payload, { room: 'r1', text: 'HELLO' })
        client.close()
      }
    }
  }
})

test('validation errors carry the failing path and the connection stays open', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  const missing = await client.request('math.add', { a: 1 })
  t.equal(missing.type, MessageType.ERROR)
  t.equal(errorOf(missing).code, 0x201)
  t.match(errorOf(missing).details, { path: '/payload/b' })
  const wrong = await client.request('math.add', { a: 1, b: 'two' })
  t.equal(errorOf(wrong).code, 0x200)
  t.match(errorOf(wrong).details, { path: '/payload/b' })
  const unknown = await client.request('no.such.request', {})
  t.equal(errorOf(unknown).code, 0x200)
  t.match(errorOf(unknown).message, /Unknown request "no.such.request"/)
  await client.send(MessageType.EVENT, { event_type: 'chat.message', id: 77, payload: { room: 'r', text: 'x'.repeat(101) } })
  const badEvent = await client.next((m) => m.type === MessageType.ERROR && m.envelope?.id === 77)
  t.match(errorOf(badEvent).details, { path: '/payload/text' })
  await client.send(MessageType.EVENT, { event_type: 'no.such.event', id: 78, payload: {} })
  t.equal(errorOf(await client.next((m) => m.type === MessageType.ERROR && m.envelope?.id === 78)).code, 0x200)
  await client.send(MessageType.RESPONSE, { event_type: 'math.add', id: 79, payload: {} })
  t.equal(errorOf(await client.next((m) => m.type === MessageType.ERROR && m.envelope?.id === 79)).code, 0x104, 'a RESPONSE from a client is unexpected')
  t.same((await client.request('math.add', { a: 1, b: 1 })).envelope?.payload, { sum: 2 }, 'still open and working')
})

test('handler errors become ERROR messages without leaking internals; catalog errors keep their code', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=json')
  const internal = await client.request('fail.internal', {})
  t.equal(errorOf(internal).code, 0x300)
  t.notMatch(JSON.stringify(internal.envelope), /hunter2/, 'internal details are not leaked')
  const denied = await client.request('fail.denied', {})
  t.equal(errorOf(denied).code, 0x203)
  t.match(errorOf(denied).message, /not your patient/)
  const badResponse = await client.request('fail.badResponse', {})
  t.equal(errorOf(badResponse).code, 0x300, 'an invalid response is the server\'s bug')
  const unhandled = await client.request('unhandled.request', {})
  t.equal(errorOf(unhandled).code, 0x300)
  t.equal(app.wirebox.metrics().total.errors['0x300'], 3)
})

test('request timeout and the in-flight cap', async (t) => {
  const app = await buildApp({ requestTimeoutMs: 100, maxInFlight: 2 })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  const slow = await client.request('math.slow', { ms: 400 })
  t.equal(errorOf(slow).code, 0x301)
  t.match(errorOf(slow).message, /timed out after 100 ms/)
  const answers = await Promise.all([
    client.request('math.slow', { ms: 50 }), client.request('math.slow', { ms: 50 }), client.request('math.slow', { ms: 50 })
  ])
  t.same(answers.map((a) => a.type), [MessageType.RESPONSE, MessageType.RESPONSE, MessageType.ERROR], 'the third is over the cap')
  t.equal(errorOf(answers[2] as never).code, 0x204)
  t.same((await client.request('math.slow', { ms: 0 })).envelope?.payload, { done: true }, 'capacity comes back')
})

test('ACK_REQUIRED both ways', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack&version=3')
  // client -> server: the server ACKs once handled
  await client.send(MessageType.EVENT, { event_type: 'chat.message', id: 500, payload: { room: 'r', text: 'ack me' } }, Flag.ACK_REQUIRED)
  const ack = await client.next((m) => m.type === MessageType.ACK && m.envelope?.id === 500)
  t.ok(ack, 'ACK carries the id')
  t.ok(client.received.indexOf(ack) > client.received.findIndex((m) => m.envelope?.event_type === 'chat.echo'), 'after the handler ran')
  // server -> client: resolves when the client ACKs...
  const pending = client.request('notify.ack', { text: 'please ack' })
  const notice = await client.next((m) => m.envelope?.event_type === 'server.notice')
  t.ok((notice.flags & Flag.ACK_REQUIRED) !== 0)
  await client.send(MessageType.ACK, { event_type: 'ack', id: notice.envelope?.id as number })
  t.same((await pending).envelope?.payload, { acked: true })
  // ...and rejects on timeout (the handler turns that into acked: false)
  t.same((await client.request('notify.ack', { text: 'ignored' })).envelope?.payload, { acked: false })
  // ACK_REQUIRED without an id is refused
  await client.send(MessageType.EVENT, { event_type: 'chat.message', payload: { room: 'r', text: 'no id' } }, Flag.ACK_REQUIRED)
  t.equal(errorOf(await client.next((m) => m.type === MessageType.ERROR)).code, 0x201)
})

test('PING is answered with PONG', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=json')
  await client.send(MessageType.PING, { event_type: 'ping', id: 9 })
  const pong = await client.next((m) => m.type === MessageType.PONG)
  t.equal(pong.envelope?.id, 9)
})

test('a handler result whose `then` getter throws is answered with an ERROR and frees its in-flight slot', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0, maxInFlight: 1 })
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    conn.handle('fail.internal', () => ({ get then () { throw new Error('getter') } }) as never)
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  t.equal((await client.request('fail.internal', {})).type, MessageType.ERROR, 'answered with an ERROR')
  const next = await client.request('math.add', { a: 1, b: 1 })
  t.equal(next.type, MessageType.RESPONSE, 'the next request is not refused as one too many')
  t.same(next.envelope?.payload, { sum: 2 })
})
