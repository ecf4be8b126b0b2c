/**
 * Issue 9, item 1: silent loss across a reconnect. The client ran its queued calls before its
 * re-SUBSCRIBE and dropped `{ recovered: false, first_seq }` answers and unsolicited notices.
 * Now it re-subscribes (with `since`) before anything queued is sent, every message reaches the
 * subscriber once, in seq order, or `onGap` says what was lost, with its exact range.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import type { Broker } from '../../lib/index.js'
import { redisBroker } from '../../lib/redis.js'
import { createClient } from '../../lib/client/node.js'
import type { TopicGap, WireboxClient } from '../../lib/client/node.js'
import { until } from '../helpers.js'
import { redisTest, removeKeys, testPrefix } from '../redis-server.js'

const chat = defineProtocol({
  events: {
    'chat.say': Type.Object({ room: Type.String(), text: Type.String() }),
    'chat.said': Type.Object({ text: Type.String() })
  }
})

/** A server whose `chat.say` publishes `chat.said` to topic `room/<room>`. */
async function chatServer (port: number, options: { broker?: Broker, history?: { size?: number } } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { ...options, heartbeatIntervalMs: 0 })
  app.wirebox('/ws', { protocol: chat }, (conn) => {
    conn.on('chat.say', async ({ room, text }) => { await app.wirebox.publish(`room/${room}`, 'chat.said', { text }) })
  })
  await app.listen({ port, host: '127.0.0.1' })
  return app
}

/** What a subscriber saw: `seq:text` per message, and the gaps it was told of. */
function watch (client: WireboxClient<typeof chat>): { seen: string[], gaps: TopicGap[] } {
  const seen: string[] = []
  const gaps: TopicGap[] = []
  client.on('chat.said', ({ text }, meta) => { seen.push(`${meta.topic ?? ''}#${meta.seq ?? -1}:${text}`) })
  client.onGap((gap) => gaps.push(gap))
  return { seen, gaps }
}

const portOf = (app: FastifyInstance): number => (app.server.address() as { port: number }).port

test('memory broker, server restart: queued sends are not lost, the reset is reported, nothing is seen twice', async (t) => {
  let app = await chatServer(0)
  const port = portOf(app)
  const client = createClient<typeof chat>(`ws://127.0.0.1:${port}/ws`, { protocol: chat, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } })
  t.teardown(async () => { client.close(); await app.close() })
  const { seen, gaps } = watch(client)
  await client.subscribe('room/r')
  for (const text of ['a', 'b', 'c']) await client.send('chat.say', { room: 'r', text })
  await until(() => seen.length === 3)
  await app.close()
  await until(() => client.state === 'reconnecting')
  const queued = [client.send('chat.say', { room: 'r', text: 'queued-1' }), client.send('chat.say', { room: 'r', text: 'queued-2' })]
  app = await chatServer(port)
  await Promise.all(queued)
  await client.send('chat.say', { room: 'r', text: 'after-reconnect' })
  await until(() => seen.length === 6)
  t.same(seen, ['room/r#1:a', 'room/r#2:b', 'room/r#3:c', 'room/r#1:queued-1', 'room/r#2:queued-2', 'room/r#3:after-reconnect'],
    'every accepted message once, in order: the queued ones were sent after the re-SUBSCRIBE')
  t.same(gaps, [{ topic: 'room/r', from: 4, to: undefined, next: 1, reset: true }], 'the application was told the history started over')
})

test('memory broker, short history: a gap is reported with its exact range, then the rest is replayed', async (t) => {
  const app = await chatServer(0, { history: { size: 3 } })
  const port = portOf(app)
  const client = createClient<typeof chat>(`ws://127.0.0.1:${port}/ws`, { protocol: chat, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } })
  t.teardown(async () => { client.close(); await app.close() })
  const { seen, gaps } = watch(client)
  for (const room of ['x', 'y', 'z']) await client.subscribe(`room/${room}`)
  for (const room of ['x', 'y', 'z']) await app.wirebox.publish(`room/${room}`, 'chat.said', { text: '1' })
  await until(() => seen.length === 3)
  // The server drops the connection; meanwhile 10 messages on x (history keeps 3), 2 on y, 0 on z.
  for (const conn of app.wirebox.connections) conn.close(4001, 'test')
  await until(() => client.state === 'reconnecting')
  for (let i = 2; i <= 11; i++) await app.wirebox.publish('room/x', 'chat.said', { text: String(i) })
  for (let i = 2; i <= 3; i++) await app.wirebox.publish('room/y', 'chat.said', { text: String(i) })
  await until(() => seen.length === 3 + 3 + 2)
  t.same(gaps, [{ topic: 'room/x', from: 2, to: 8, next: 9, reset: false }], 'x: exactly seqs 2 to 8 lost; y and z: nothing')
  t.same(seen.filter((s) => s.startsWith('room/x')), ['room/x#1:1', 'room/x#9:9', 'room/x#10:10', 'room/x#11:11'], 'x: what history had, in order')
  t.same(seen.filter((s) => s.startsWith('room/y')), ['room/y#1:1', 'room/y#2:2', 'room/y#3:3'], 'y: everything')
  await app.wirebox.publish('room/z', 'chat.said', { text: '2' })
  await until(() => seen.includes('room/z#2:2'))
  t.equal(new Set(seen).size, seen.length, 'nothing twice')
})

redisTest('Redis broker, server restart with another instance publishing: nothing lost, nothing twice, queued sends delivered', async (t, url) => {
  const prefix = testPrefix('reconnect')
  const other = await chatServer(0, { broker: redisBroker({ url, prefix }) })
  let app = await chatServer(0, { broker: redisBroker({ url, prefix }) })
  const port = portOf(app)
  const client = createClient<typeof chat>(`ws://127.0.0.1:${port}/ws`, { protocol: chat, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } })
  t.teardown(async () => { client.close(); await app.close(); await other.close(); await removeKeys(url, prefix) })
  const { seen, gaps } = watch(client)
  await client.subscribe('room/r')
  await client.subscribe('room/s')
  for (const text of ['a', 'b']) await client.send('chat.say', { room: 'r', text })
  await until(() => seen.length === 2)
  await app.close()
  await until(() => client.state === 'reconnecting')
  for (const text of ['c', 'd']) await other.wirebox.publish('room/r', 'chat.said', { text })
  await other.wirebox.publish('room/s', 'chat.said', { text: 's1' })
  const queued = client.send('chat.say', { room: 'r', text: 'queued' })
  app = await chatServer(port, { broker: redisBroker({ url, prefix }) })
  await queued
  await until(() => seen.length === 6).catch((err: Error) => { throw new Error(`${err.message}: saw ${JSON.stringify(seen)}, gaps ${JSON.stringify(gaps)}`) })
  t.same(seen.filter((s) => s.startsWith('room/r')), ['room/r#1:a', 'room/r#2:b', 'room/r#3:c', 'room/r#4:d', 'room/r#5:queued'], 'replayed from Redis, then the queued send, once each')
  t.same(seen.filter((s) => s.startsWith('room/s')), ['room/s#1:s1'], 'the second topic too')
  t.same(gaps, [], 'no gap')
})
