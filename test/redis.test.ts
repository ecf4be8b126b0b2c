/**
 * Topics across instances through a real Redis (test/redis-server.ts: REDIS_URL, or a
 * redis-server started for this file). Each test uses its own key prefix and removes its keys.
 */
import { buildApp } from './plugin/fixture.js'
import { buildServer } from '../example/server.js'
import { TestClient, MessageType, listen, shutdown } from './plugin/test-client.js'
import { redisBroker } from '../lib/redis.js'
import type { Broker, SubscriptionAck } from '../lib/index.js'
import type { FastifyInstance } from 'fastify'
import { until } from './helpers.js'
import { redisTest, redisClient, removeKeys, startRedisServer, testPrefix } from './redis-server.js'

async function instances (n: number, prefix: string, url: string, extra = {}): Promise<Array<{ app: FastifyInstance, base: string, broker: Broker }>> {
  const out = []
  for (let i = 0; i < n; i++) {
    const broker = redisBroker({ url, prefix, ...extra })
    const app = await buildApp({ broker })
    out.push({ app, base: await listen(app), broker })
  }
  return out
}

const seqsOf = (client: TestClient, topic: string): number[] =>
  client.ofType(MessageType.EVENT).filter((m) => m.envelope?.topic === topic).map((m) => m.envelope?.seq as number)

redisTest('three instances: a publish on any reaches subscribers on all, exactly once, with one Redis message, seq monotonic', async (t, url) => {
  const prefix = testPrefix()
  const nodes = await instances(3, prefix, url)
  t.teardown(async () => { for (const n of nodes) await shutdown(n.app); await removeKeys(url, prefix) })
  const clients = await Promise.all(nodes.map(async (n, i) => await TestClient.connect(`${n.base}/ws?encoding=${i === 1 ? 'json' : 'messagepack'}`)))
  for (const c of clients) t.equal((await c.subscribe('room')).type, MessageType.SUBSCRIPTION_ACK)
  const spy = redisClient(url)
  let redisMessages = 0
  await spy.subscribe(`${prefix}:msg:room`)
  spy.on('message', () => { redisMessages++ })
  for (let i = 0; i < 12; i++) {
    const result = await nodes[i % 3]?.app.wirebox.publish('room', 'chat.echo', { room: 'r', text: `m${i}` })
    t.equal(result?.seq, i + 1, 'seq assigned across instances, in order')
  }
  for (const c of clients) await until(() => seqsOf(c, 'room').length >= 12)
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (const [i, c] of clients.entries()) {
    t.same(seqsOf(c, 'room'), Array.from({ length: 12 }, (_, k) => k + 1), `client on instance ${i}: every message once, in order`)
    t.same(c.ofType(MessageType.EVENT).map((m) => (m.envelope?.payload as { text: string }).text), Array.from({ length: 12 }, (_, k) => `m${k}`))
  }
  t.equal(redisMessages, 12, 'one Redis message per publish, not per subscriber')
  spy.disconnect()
})

redisTest('the instance a client was on dies: reconnecting elsewhere with since recovers everything, no gap, no duplicate', async (t, url) => {
  const prefix = testPrefix()
  const [a, b] = await instances(2, prefix, url)
  if (a === undefined || b === undefined) throw new Error('no instances')
  t.teardown(async () => { await shutdown(b.app); await removeKeys(url, prefix) })
  const onA = await TestClient.connect(`${a.base}/ws?encoding=messagepack`)
  await onA.subscribe('ward')
  for (let i = 1; i <= 5; i++) await b.app.wirebox.publish('ward', 'chat.echo', { room: 'w', text: String(i) })
  await until(() => seqsOf(onA, 'ward').length === 5)
  const lastSeen = Math.max(...seqsOf(onA, 'ward'))
  await shutdown(a.app) // the instance dies
  for (let i = 6; i <= 9; i++) await b.app.wirebox.publish('ward', 'chat.echo', { room: 'w', text: String(i) })
  const onB = await TestClient.connect(`${b.base}/ws?encoding=json`)
  const ack = await onB.subscribe('ward', lastSeen)
  t.same(ack.envelope?.payload as SubscriptionAck, { topic: 'ward', seq: 9, recovered: true })
  await b.app.wirebox.publish('ward', 'chat.echo', { room: 'w', text: '10' })
  await until(() => seqsOf(onB, 'ward').length >= 5)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same([...seqsOf(onA, 'ward'), ...seqsOf(onB, 'ward')], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'together: every message exactly once')
})

redisTest('the typed client resumes by itself after its server restarts, with what other instances published meanwhile', async (t, url) => {
  const prefix = testPrefix()
  const [a, b] = await instances(2, prefix, url)
  if (a === undefined || b === undefined) throw new Error('no instances')
  const port = Number(new URL(a.base.replace('ws', 'http')).port)
  const { createClient } = await import('../lib/client/node.js')
  const client = createClient(`${a.base}/ws`, { reconnect: { initialDelayMs: 20, maxDelayMs: 50 } })
  const restarted: { app?: FastifyInstance } = {}
  t.teardown(async () => { client.close(); await shutdown(b.app); if (restarted.app !== undefined) await shutdown(restarted.app); await removeKeys(url, prefix) })
  const seen: number[] = []
  client.on('chat.echo' as never, (_p: unknown, meta: { seq?: number }) => { seen.push(meta.seq ?? -1) })
  await client.subscribe('resume')
  for (let i = 0; i < 3; i++) await b.app.wirebox.publish('resume', 'chat.echo', { room: 'r', text: 'x' })
  await until(() => seen.length === 3)
  await shutdown(a.app)
  for (let i = 0; i < 4; i++) await b.app.wirebox.publish('resume', 'chat.echo', { room: 'r', text: 'y' })
  restarted.app = await buildApp({ broker: redisBroker({ url, prefix }) })
  await restarted.app.listen({ port, host: '127.0.0.1' })
  await until(() => seen.length >= 7)
  await b.app.wirebox.publish('resume', 'chat.echo', { room: 'r', text: 'z' })
  await until(() => seen.length >= 8)
  t.same(seen, [1, 2, 3, 4, 5, 6, 7, 8], 'replayed from Redis on resubscription, then live')
})

redisTest('Redis restarted during publishing: nothing silently lost, seq stays monotonic; malformed messages are dropped and counted', async (t) => {
  // A server of its own: this test kills it.
  const server = await startRedisServer()
  t.teardown(() => server.stop())
  const probe = redisClient(server.url)
  await probe.ping()
  const prefix = testPrefix()
  const nodes = await instances(2, prefix, server.url, { redis: { retryStrategy: () => 50 } })
  const [a, b] = nodes
  if (a === undefined || b === undefined) throw new Error('no instances')
  t.teardown(async () => { probe.disconnect(); for (const n of nodes) await shutdown(n.app) })
  const client = await TestClient.connect(`${b.base}/ws?encoding=messagepack`)
  await client.subscribe('vitals')
  const publishes: Array<Promise<{ seq: number }>> = []
  for (let i = 0; i < 30; i++) {
    if (i === 10) await server.restart(300)
    publishes.push(a.app.wirebox.publish('vitals', 'chat.echo', { room: 'v', text: String(i) }))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const results = await Promise.all(publishes)
  const seqs = results.map((r) => r.seq)
  t.same(seqs, [...seqs].sort((x, y) => x - y), 'seq increases')
  t.equal(new Set(seqs).size, 30, 'no seq is given twice, even after Redis lost its counters')
  await until(() => {
    const got = seqsOf(client, 'vitals')
    const lostNotices = client.ofType(MessageType.SUBSCRIPTION_ACK).filter((m) => m.envelope?.id === undefined)
    return got.length + lostNotices.length > 0 && got.at(-1) === seqs.at(-1)
  }, 10_000)
  const got = seqsOf(client, 'vitals')
  t.same(got, [...new Set(got)].sort((x, y) => x - y), 'received in order, no duplicate')
  const gaps = client.ofType(MessageType.SUBSCRIPTION_ACK).filter((m) => m.envelope?.id === undefined).map((m) => m.envelope?.payload as SubscriptionAck)
  const missing = seqs.filter((s) => !got.includes(s))
  t.ok(missing.every((s) => gaps.some((g) => (g.first_seq ?? 0) > s)), `every missing message (${missing.join(', ') || 'none'}) is covered by a gap report`)
  // A malformed message on the channel: dropped, counted, the instance stays up.
  const before = b.broker.stats().malformed
  await probe.publish(`${prefix}:msg:vitals`, Buffer.from('999999:\xc1garbage', 'latin1'))
  await probe.publish(`${prefix}:msg:vitals`, 'no seq at all')
  await until(() => b.broker.stats().malformed === before + 2)
  const after = await a.app.wirebox.publish('vitals', 'chat.echo', { room: 'v', text: 'after' })
  await until(() => seqsOf(client, 'vitals').includes(after.seq))
  t.pass('still delivering after malformed messages')
})

redisTest('the example shares topics through Redis: ecg.annotate on one instance reaches subscribers on the other', async (t, url) => {
  const prefix = testPrefix()
  const one = await buildServer({ logger: false, redisUrl: url, redisPrefix: prefix })
  const two = await buildServer({ logger: false, redisUrl: url, redisPrefix: prefix })
  const [base1, base2] = [await listen(one), await listen(two)]
  t.teardown(async () => { await shutdown(one); await shutdown(two); await removeKeys(url, prefix) })
  const watcher = await TestClient.connect(`${base2}/ws?encoding=messagepack`)
  await watcher.subscribe('ecg/shared')
  const annotator = await TestClient.connect(`${base1}/ws?encoding=json`)
  t.same((await annotator.request('ecg.annotate', { patient_id: 'shared', note: 'from instance one' })).envelope?.payload, { ok: true })
  const note = await watcher.next((m) => m.envelope?.event_type === 'ecg.annotation')
  t.same(note.envelope?.payload, { patient_id: 'shared', note: 'from instance one' })
})
