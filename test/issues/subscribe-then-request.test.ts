/**
 * A SUBSCRIBE does not stop the connection from reading: its authorization hook (which may await
 * an ACK from the same client) and the broker run while later messages are handled; the
 * subscription is in place once its SUBSCRIPTION_ACK is sent (PROTOCOL.md section 1). A
 * subscribe() on a closed connection is refused.
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

test('SUBSCRIBE with a hook that awaits an ACK from the same client: the connection reads on, the ACK settles the hook, a request behind it is answered at once', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox, { ackTimeoutMs: 2000 })
  let confirmed: boolean | undefined
  app.wirebox('/ws', {
    protocol,
    // The hook asks the client to confirm first (an event sent with ACK_REQUIRED).
    authorizeSubscribe: async (_topic, conn) => {
      confirmed = await (conn as unknown as { send: (e: string, p: unknown, o: object) => Promise<boolean> }).send('note', { text: 'confirm?' }, { ack: true })
      return confirmed
    }
  }, (conn) => {
    conn.handle('annotate', () => ({ published: 0 }))
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  t.teardown(() => client.close())
  await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 1, payload: { topic: 'notes' } })
  await client.send(MessageType.REQUEST, { event_type: 'annotate', id: 2, payload: { text: 'meanwhile' } })
  const ask = await client.next((m) => m.type === MessageType.EVENT && m.envelope?.payload !== undefined)
  t.same(ask.envelope?.payload, { text: 'confirm?' })
  const response = await client.next((m) => m.type === MessageType.RESPONSE)
  t.equal(response.envelope?.id, 2, 'the request behind the SUBSCRIBE is answered while the hook waits')
  await client.send(MessageType.ACK, { event_type: 'note', id: ask.envelope?.id })
  const ack = await client.next((m) => m.type === MessageType.SUBSCRIPTION_ACK)
  t.same(ack.envelope?.payload, { topic: 'notes', seq: 0 })
  t.equal(confirmed, true, 'the client\'s ACK reached the hook')
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
