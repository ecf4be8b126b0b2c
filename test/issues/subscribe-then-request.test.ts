/**
 * Messages of one connection are handled in the order they arrive, including SUBSCRIBE: the
 * connection reads its next message once the subscription is in place (the authorization hook
 * answered, the broker subscribed, the SUBSCRIPTION_ACK written). A request sent right behind a
 * SUBSCRIBE, whose handler publishes to that topic, reaches the new subscriber.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

const protocol = defineProtocol({
  events: { note: Type.Object({ text: Type.String() }) },
  requests: { annotate: { payload: Type.Object({ text: Type.String() }), response: Type.Object({ published: Type.Integer() }) } }
})

test('SUBSCRIBE then, without waiting for its ACK, a request that publishes to the topic: the subscriber gets the message', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  app.wirebox('/ws', {
    protocol,
    // A hook that takes its time, as a database lookup would.
    authorizeSubscribe: async () => await new Promise((resolve) => setTimeout(() => resolve(true), 30))
  }, (conn) => {
    conn.handle('annotate', async ({ text }) => ({ published: (await app.wirebox.publish('notes', 'note', { text })).delivered }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  t.teardown(() => client.close())
  await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 1, payload: { topic: 'notes' } })
  await client.send(MessageType.REQUEST, { event_type: 'annotate', id: 2, payload: { text: 'hello' } })
  const ack = await client.next((m) => m.type === MessageType.SUBSCRIPTION_ACK)
  t.same(ack.envelope?.payload, { topic: 'notes', seq: 0 })
  const response = await client.next((m) => m.type === MessageType.RESPONSE)
  t.same(response.envelope?.payload, { published: 1 }, 'the publish found the subscriber')
  const note = await client.next((m) => m.envelope?.topic === 'notes')
  t.same(note.envelope?.payload, { text: 'hello' })
})

test('conn.subscribe() after the connection closed rejects with WIREBOX_ERR_CONNECTION_CLOSED and leaves no subscriber behind', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  let onClosed: (conn: { subscribe: (topic: string) => Promise<number> }) => void = () => {}
  const closed = new Promise<{ subscribe: (topic: string) => Promise<number> }>((resolve) => { onClosed = resolve })
  app.wirebox('/ws', { protocol }, (conn) => {
    conn.onClose(() => onClosed(conn))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  client.close()
  await t.rejects((await closed).subscribe('notes'), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' })
  t.equal(app.wirebox.subscriberCount('notes'), 0)
})
