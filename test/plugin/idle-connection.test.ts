/**
 * An idle connection holds little: its subscriptions, ACK table, rate-limit buckets, log and
 * close handlers are made when first used, and its socket listeners are shared by every
 * connection. Each of those parts still works when a connection that stayed idle first needs it,
 * and each connection's parts are its own. Handlers are kept by the route's slots, not in a Map
 * per connection.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import wirebox, { errors, memoryBroker } from '../../lib/index.js'
import type { Broker, ErrorPayload, Protocol, WireboxConnection } from '../../lib/index.js'
import { testProtocol } from './fixture.js'
import { TestClient, MessageType, Flag, listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

// A route's setup gets a connection typed by the protocol's definition.
type Connection = WireboxConnection<typeof testProtocol extends Protocol<infer D> ? D : never>

const codeOf = (m: { envelope?: { payload?: unknown } }): number | undefined => (m.envelope?.payload as ErrorPayload | undefined)?.code
const textOf = (m: { envelope?: { payload?: unknown } }): unknown => (m.envelope?.payload as { text?: unknown } | undefined)?.text

test('connections idle since their negotiation: what is made when first used works, and is each connection\'s own', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { rateLimit: { messagesPerSecond: 1, burstMessages: 4, closeAfter: 100 } })
  const conns: Connection[] = []
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    conns.push(conn)
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const a = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  const b = await TestClient.connect(`${base}/ws?encoding=json&compression=none`)
  const [na, nb] = await Promise.all([a.ready(), b.ready()])
  await until(() => conns.length === 2)
  const [ca, cb] = conns as [Connection, Connection]
  t.equal(ca.id, na.session_id, 'the id is the one the negotiation sent')
  t.equal(cb.id, nb.session_id)
  t.not(ca.id, cb.id)
  t.same([ca.encoding, ca.version, ca.compression], ['messagepack', 3, 'gzip'], 'the negotiated settings')
  t.same([cb.encoding, cb.version, cb.compression], ['json', 3, 'none'])
  t.same([...ca.subscriptions], [], 'no subscriptions yet')

  // Subscriptions, made by the first subscribe.
  t.equal(await ca.subscribe('news'), 0)
  t.same([...ca.subscriptions], ['news'])
  await app.wirebox.publish('news', 'server.notice', { text: 'hello' })
  const published = await a.next((m) => m.type === MessageType.EVENT && m.envelope?.topic === 'news')
  t.equal(textOf(published), 'hello', 'a topic message reaches the subscriber')
  t.equal(b.ofType(MessageType.EVENT).length, 0, 'and no one else')

  // The ACK table, made by the first send that asks for an ACK.
  const acked = ca.send('server.notice', { text: 'ack me' }, { ack: true })
  const notice = await a.next((m) => m.type === MessageType.EVENT && textOf(m) === 'ack me')
  await a.send(MessageType.ACK, { event_type: 'ack', id: notice.envelope?.id })
  t.equal(await acked, true, 'the send resolves once the client acknowledges it')

  // The rate limit's buckets, made by the first message: each connection has its own.
  for (let i = 0; i < 8; i++) await b.send(MessageType.REQUEST, { event_type: 'math.add', id: i + 1, payload: { a: i, b: 1 } })
  const refused = await b.next((m) => m.type === MessageType.ERROR)
  await until(() => b.ofType(MessageType.RESPONSE).length >= 4)
  t.same(b.ofType(MessageType.RESPONSE).slice(0, 4).map((m) => m.envelope?.payload), [{ sum: 1 }, { sum: 2 }, { sum: 3 }, { sum: 4 }], 'a burst of 4 is answered')
  t.equal(codeOf(refused), new errors.WIREBOX_ERR_RATE_LIMITED('').wireCode, 'past the burst, messages are refused')
  t.same((await a.request('math.add', { a: 2, b: 2 })).envelope?.payload, { sum: 4 }, 'the other connection\'s buckets are untouched')

  // Close handlers registered late run with the close code; the shared listeners reach the right connection.
  const closed: number[] = []
  cb.onClose((code) => closed.push(code))
  ca.onClose((code) => closed.push(-code))
  b.ws.close(4000, 'bye')
  await until(() => closed.length > 0)
  t.same(closed, [4000], 'the closing connection\'s handler ran, with its code')
  t.equal(cb.closed, true)
  t.equal(ca.closed, false, 'the other connection stays open')
  t.equal(app.wirebox.connections.size, 1)
  t.same((await a.request('math.add', { a: 3, b: 4 })).envelope?.payload, { sum: 7 }, 'and is still served')
  t.equal(cb.unsubscribe('news'), false, 'a connection that never subscribed has nothing to unsubscribe')
})

test('handlers go by the route\'s slots: each event and request reaches its own, the last one registered wins', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  const seen: string[] = []
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => {
    conn.handle('math.add', () => ({ sum: -1 }))
    conn.on('chat.message', ({ text }) => { seen.push(`chat ${text}`) })
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
    conn.handle('data.range', ({ count }) => ({ values: Array.from({ length: count }, (_, i) => i) }))
    conn.on('bulk.data', ({ values }) => { seen.push(`bulk ${values.length}`) })
  })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 }, 'the handler registered last answers')
  t.same((await client.request('data.range', { count: 2 })).envelope?.payload, { values: [0, 1] })
  t.equal((await client.request('math.slow', { ms: 0 })).type, MessageType.ERROR, 'a request without a handler is refused')
  const events: Array<[string, unknown]> = [['chat.message', { room: 'r', text: 'hi' }], ['bulk.data', { values: [1, 2, 3] }], ['chat.echo', { room: 'r', text: 'no handler' }]]
  for (const [i, [name, payload]] of events.entries()) {
    await client.send(MessageType.EVENT, { event_type: name, id: 100 + i, payload }, Flag.ACK_REQUIRED)
    const ack = await client.next((m) => m.envelope?.id === 100 + i)
    t.equal(ack.type, MessageType.ACK, `${name}: acknowledged`)
  }
  t.same(seen, ['chat hi', 'bulk 3'], 'each event reached its own handler; one without a handler is only acknowledged')
})

test('a connection\'s topics, flat while few and a map beyond: in the order subscribed, each reached, each removed', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0 })
  const conns: Connection[] = []
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => { conns.push(conn) })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const a = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await a.ready()
  await until(() => conns.length === 1)
  const conn = conns[0] as Connection
  const names = Array.from({ length: 11 }, (_, i) => `t${i}`)
  for (const [i, name] of names.entries()) {
    await conn.subscribe(name)
    t.same([...conn.subscriptions], names.slice(0, i + 1), `${i + 1} topics, in order`)
  }
  await conn.subscribe('t3')
  t.same([...conn.subscriptions], names, 'subscribing again adds nothing')
  for (const name of names) await app.wirebox.publish(name, 'server.notice', { text: name })
  await until(() => a.ofType(MessageType.EVENT).length === names.length)
  t.same(a.ofType(MessageType.EVENT).map((m) => m.envelope?.topic), names, 'every topic reaches the connection')
  t.equal(conn.unsubscribe('t10'), true)
  t.equal(conn.unsubscribe('t10'), false, 'not twice')
  t.same([...conn.subscriptions], names.slice(0, 10))
  for (const name of names.slice(0, 10)) t.equal(conn.unsubscribe(name), true)
  t.same([...conn.subscriptions], [], 'none left')
  t.equal(app.wirebox.subscriberCount('t0'), 0, 'and the topics know it')
  await conn.subscribe('again')
  t.same([...conn.subscriptions], ['again'], 'subscribing after all were removed')
})

test('a server-side subscribe still waiting for the broker when the connection closes leaves no subscriber behind', async (t) => {
  const inner = memoryBroker()
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  // A broker that is slow to listen to a new topic.
  const slow: Broker = Object.assign(Object.create(inner) as Broker, {
    listen: async (topic: string) => { await gate; await inner.listen(topic) }
  })
  const app = Fastify({ logger: false })
  await app.register(wirebox, { heartbeatIntervalMs: 0, broker: slow })
  let subscribing: Promise<number> | undefined
  let conn: Connection | undefined
  app.wirebox('/ws', { protocol: testProtocol }, (c) => {
    conn = c
    subscribing = c.subscribe('slow')
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const a = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await a.ready()
  await until(() => subscribing !== undefined)
  a.ws.terminate()
  await until(() => conn?.closed === true)
  release()
  t.equal(await subscribing, 0, 'the subscribe resolves')
  t.equal(app.wirebox.subscriberCount('slow'), 0, 'no subscriber left for the closed connection')
  t.same([...(conn as Connection).subscriptions], [])
})
