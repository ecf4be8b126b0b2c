import { test } from 'tap'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, Flag, shutdown, listen } from './test-client.js'
import type { ErrorPayload, SubscriptionAck, WireboxConnection } from '../../lib/index.js'
import { redisBroker } from '../../lib/redis.js'
import type { Test } from 'tap'
import { redisTest, removeKeys, testPrefix } from '../redis-server.js'

test('SUBSCRIBE, publish to every variant once, UNSUBSCRIBE', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const urls = ['/ws?encoding=messagepack&version=3', '/ws?encoding=messagepack&version=3', '/ws?encoding=json&version=2', '/ws?encoding=messagepack&version=1']
  const clients = await Promise.all(urls.map(async (url) => await TestClient.inject(app, url)))
  for (const client of clients) {
    const ack = await client.subscribe('room/1')
    t.equal(ack.type, MessageType.SUBSCRIPTION_ACK)
    t.same(ack.envelope?.payload, { topic: 'room/1', seq: 0 })
  }
  t.equal(app.wirebox.subscriberCount('room/1'), 4)
  const result = await app.wirebox.publish('room/1', 'chat.echo', { room: '1', text: 'to all' }, { priority: true })
  t.match(result, { seq: 1, delivered: 4, dropped: 0, encodings: 3 }, 'encoded once per variant: 3 variants for 4 sockets')
  for (const client of clients) {
    const event = await client.next((m) => m.envelope?.topic === 'room/1')
    t.same(event.envelope?.payload, { room: '1', text: 'to all' })
    t.equal(event.envelope?.seq, 1)
    t.equal(event.flags & (Flag.BROADCAST | Flag.PRIORITY), Flag.BROADCAST | Flag.PRIORITY)
  }
  await app.wirebox.publish('room/1', 'chat.echo', { room: '1', text: 'second' })
  t.equal((await (clients[0] as TestClient).next((m) => m.envelope?.seq === 2)).envelope?.topic, 'room/1', 'seq increases by one')
  // unsubscribe
  const first = clients[0] as TestClient
  await first.send(MessageType.UNSUBSCRIBE, { event_type: 'unsubscribe', id: 900, payload: { topic: 'room/1' } })
  t.same((await first.next((m) => m.envelope?.id === 900)).envelope?.payload, { topic: 'room/1', seq: 2 })
  t.equal(app.wirebox.subscriberCount('room/1'), 3)
  // closing removes the subscriptions
  clients[1]?.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(app.wirebox.subscriberCount('room/1'), 2)
})

test('publish validates the payload once and refuses unknown events', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  await client.subscribe('t')
  await t.rejects(app.wirebox.publish('t', 'chat.echo', { room: 1 }), { code: 'WIREBOX_ERR_MISSING_FIELDS' })
  await t.rejects(app.wirebox.publish('t', 'nope', {}), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' })
  t.match(await app.wirebox.publish('nobody-listens', 'chat.echo', { room: '1', text: 'x' }), { delivered: 0, encodings: 0 })
})

test('subscription payloads are validated; authorizeSubscribe can refuse with 0x203', async (t) => {
  const app = await buildApp({}, { authorizeSubscribe: (topic) => topic.startsWith('public/') })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=json')
  const denied = await client.subscribe('private/x')
  t.equal((denied.envelope?.payload as ErrorPayload).code, 0x203)
  t.equal(app.wirebox.subscriberCount('private/x'), 0)
  t.equal((await client.subscribe('public/x')).type, MessageType.SUBSCRIPTION_ACK)
  await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 5, payload: { topic: '' } })
  t.equal(((await client.next((m) => m.envelope?.id === 5)).envelope?.payload as ErrorPayload).code, 0x200)
  await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 6, payload: {} })
  const missing = (await client.next((m) => m.envelope?.id === 6)).envelope?.payload as ErrorPayload
  t.equal(missing.code, 0x201, 'a missing topic is a missing required field, as in every payload')
  t.match(missing.details, { path: '/payload/topic' })
})

test('SUBSCRIBE with since replays the missed messages in order, then live with no gap and no duplicate', async (t) => {
  const app = await buildApp({ history: { size: 3 } })
  t.teardown(() => shutdown(app))
  const first = await TestClient.inject(app, '/ws?encoding=messagepack')
  await first.subscribe('h')
  for (let i = 1; i <= 4; i++) await app.wirebox.publish('h', 'chat.echo', { room: 'h', text: String(i) })
  const current = await TestClient.inject(app, '/ws?encoding=messagepack')
  t.same((await current.subscribe('h', 4)).envelope?.payload as SubscriptionAck, { topic: 'h', seq: 4, recovered: true }, 'nothing missed')
  const behind = await TestClient.inject(app, '/ws?encoding=json')
  const ack = await behind.subscribe('h', 2)
  t.same(ack.envelope?.payload as SubscriptionAck, { topic: 'h', seq: 4, recovered: true })
  await app.wirebox.publish('h', 'chat.echo', { room: 'h', text: '5' })
  await behind.next((m) => m.envelope?.seq === 5)
  const seqs = behind.ofType(MessageType.EVENT).map((m) => m.envelope?.seq)
  t.same(seqs, [3, 4, 5], 'replayed 3 and 4, then live 5')
  t.ok(behind.received.indexOf(ack) < behind.received.findIndex((m) => m.envelope?.seq === 3), 'the ACK comes before the replay')
  const tooOld = await TestClient.inject(app, '/ws?encoding=messagepack')
  t.same((await tooOld.subscribe('h', 0)).envelope?.payload as SubscriptionAck, { topic: 'h', seq: 5, recovered: false, first_seq: 3 }, 'history (3 messages) no longer reaches back')
  const otherHistory = await TestClient.inject(app, '/ws?encoding=messagepack')
  t.match((await otherHistory.subscribe('h', 99)).envelope?.payload, { recovered: false }, 'a since beyond the current seq')
})

test('publish with ack resolves after the version-3 subscribers acknowledge', async (t) => {
  const app = await buildApp({ ackTimeoutMs: 300 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const acking = await TestClient.connect(`${base}/ws?encoding=messagepack&version=3`)
  const silent = await TestClient.connect(`${base}/ws?encoding=json&version=3`)
  await acking.subscribe('a')
  await silent.subscribe('a')
  const pending = app.wirebox.publish('a', 'server.notice', { text: 'ack please' }, { ack: true })
  const notice = await acking.next((m) => m.envelope?.topic === 'a')
  t.ok((notice.flags & Flag.ACK_REQUIRED) !== 0)
  t.equal(notice.envelope?.id, (await silent.next((m) => m.envelope?.topic === 'a')).envelope?.id, 'one message id for every recipient: encoded once')
  await acking.send(MessageType.ACK, { event_type: 'ack', id: notice.envelope?.id as number })
  const result = await pending
  t.match(result, { delivered: 1, acked: 1, dropped: 1 }, 'one ACKed, one silent until the timeout')
})

/** Fan-out to a slow consumer among fast ones, through the memory broker or (with `redisUrl`) Redis. */
async function slowConsumer (t: Test, redisUrl?: string): Promise<void> {
  const highWaterMark = 256 * 1024
  const prefix = testPrefix('slow')
  const broker = redisUrl === undefined ? undefined : redisBroker({ url: redisUrl, prefix })
  const app = await buildApp({ backpressure: { highWaterMark, policy: 'drop' }, validateOutgoing: false, ...(broker === undefined ? {} : { broker }) })
  const base = await listen(app)
  t.teardown(async () => {
    await shutdown(app)
    if (redisUrl !== undefined) await removeKeys(redisUrl, prefix)
  })
  const fast = await Promise.all([1, 2, 3].map(async () => await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)))
  const slow = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  for (const c of [...fast, slow]) await c.subscribe('firehose')
  const socket = (slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  const [f1, f2, f3, slowServer] = [...app.wirebox.connections] as WireboxConnection[]
  const fastServers = [f1, f2, f3] as WireboxConnection[]
  const values = Array.from({ length: 8000 }, (_, i) => i + 0.5) // ~72 KB
  let maxBuffered = 0
  for (let i = 0; i < 150; i++) {
    const result = await app.wirebox.publish('firehose', 'bulk.data', { values }, { priority: i % 50 === 0 })
    t.equal(result.encodings, 1, 'one encoding for four sockets of one variant')
    maxBuffered = Math.max(maxBuffered, (slowServer as WireboxConnection).socket.bufferedAmount)
    // A publisher at a pace the fast consumers keep up with.
    while (fastServers.some((c) => c.socket.bufferedAmount > highWaterMark / 2)) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  for (const c of fast) await c.next(() => c.ofType(MessageType.EVENT).length === 150, 10_000)
  for (const c of fast) t.same(c.ofType(MessageType.EVENT).map((m) => m.envelope?.seq), Array.from({ length: 150 }, (_, i) => i + 1), 'a fast subscriber got every message in order')
  t.ok(maxBuffered < highWaterMark + 4 * 80_000, `the slow socket's buffer stayed bounded (max ${maxBuffered} bytes)`)
  const dropped = app.wirebox.metrics().total.dropped
  t.ok(dropped > 0, `${dropped} non-priority messages to the slow socket were held back and counted`)
  socket.resume()
  // Held back, not lost: once it reads again, it catches up from history.
  await slow.next(() => slow.ofType(MessageType.EVENT).length === 150, 10_000)
  t.equal(slow.ofType(MessageType.EVENT).filter((m) => (m.flags & Flag.PRIORITY) !== 0).length, 3, 'the PRIORITY messages reached the slow one too')
  t.same(slow.ofType(MessageType.EVENT).map((m) => m.envelope?.seq), Array.from({ length: 150 }, (_, i) => i + 1), 'everything, in order, once')
}

const slowConsumerTitle = (broker: string): string => `fan-out to a slow consumer among fast ones (${broker} broker): its buffer stays bounded, the others get everything`
test(slowConsumerTitle('memory'), async (t) => await slowConsumer(t))
redisTest(slowConsumerTitle('redis'), async (t, url) => await slowConsumer(t, url))
