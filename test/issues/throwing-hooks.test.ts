/**
 * Issue 8, item 2: a user hook or handler that throws (synchronously or not) must not stop the
 * process. `authorizeSubscribe` throwing synchronously was called outside the promise chain.
 * Each failure is answered with its catalog code and the server serves the next client.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

const realProtocol = defineProtocol({
  events: { 'boom.sync': Type.Object({}), 'boom.async': Type.Object({}) },
  requests: {
    'req.sync': { payload: Type.Object({}), response: Type.Object({}) },
    'req.async': { payload: Type.Object({}), response: Type.Object({}) },
    ok: { payload: Type.Object({}), response: Type.Object({ ok: Type.Boolean() }) }
  }
})

async function build (): Promise<{ base: string, close: () => Promise<void> }> {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  app.wirebox('/ws', {
    protocol: realProtocol,
    authorizeSubscribe: (topic) => {
      if (topic === 'sync') return JSON.parse('{not json') as boolean
      if (topic === 'async') return Promise.reject(new Error('hook rejected'))
      return true
    }
  }, (conn) => {
    conn.on('boom.sync', () => { throw new Error('event handler threw') })
    conn.on('boom.async', async () => { throw new Error('event handler rejected') })
    conn.handle('req.sync', () => { throw new Error('request handler threw') })
    conn.handle('req.async', async () => { throw new Error('request handler rejected') })
    conn.handle('ok', () => ({ ok: true }))
    conn.onClose(() => { throw new Error('onClose threw') })
  })
  app.wirebox('/setup-throws', { protocol: realProtocol }, () => { throw new Error('setup threw') })
  app.wirebox('/setup-rejects', { protocol: realProtocol }, async () => { throw new Error('setup rejected') })
  const base = await listen(app)
  return { base, close: async () => await shutdown(app) }
}

const codeOf = (m: { envelope?: { payload?: unknown } }): number => (m.envelope?.payload as { code: number }).code

test('hooks and handlers that throw are answered with 0x300 and the server stays up', async (t) => {
  const server = await build()
  t.teardown(server.close)
  const client = await TestClient.connect(`${server.base}/ws?encoding=messagepack`)
  await client.ready()

  for (const topic of ['sync', 'async']) {
    const answer = await client.subscribe(topic)
    t.equal(answer.type, MessageType.ERROR, `authorizeSubscribe (${topic}) failing: ERROR`)
    t.equal(codeOf(answer), 0x300, `authorizeSubscribe (${topic}) failing: 0x300`)
  }
  t.equal((await client.subscribe('fine')).type, MessageType.SUBSCRIPTION_ACK, 'a later subscription works')

  for (const name of ['req.sync', 'req.async']) {
    const answer = await client.request(name, {})
    t.equal(answer.type, MessageType.ERROR, `${name}: ERROR`)
    t.equal(codeOf(answer), 0x300, `${name}: 0x300`)
    t.notMatch((answer.envelope?.payload as { message: string }).message, /threw|rejected/, `${name}: the handler's message is not leaked`)
  }

  let id = 500
  for (const name of ['boom.sync', 'boom.async']) {
    const eventId = id++
    await client.send(MessageType.EVENT, { event_type: name, id: eventId, payload: {} }, 0x10)
    const answer = await client.next((m) => m.envelope?.id === eventId)
    t.equal(answer.type, MessageType.ERROR, `${name} with ACK_REQUIRED: ERROR instead of ACK`)
    t.equal(codeOf(answer), 0x300, `${name}: 0x300`)
  }

  client.close()
  for (const path of ['/setup-throws', '/setup-rejects']) {
    const failing = await TestClient.connect(`${server.base}${path}`)
    t.equal(await failing.closed, 1011, `${path}: closed with 1011`)
  }
  const other = await TestClient.connect(`${server.base}/ws`)
  t.same((await other.request('ok', {})).envelope?.payload, { ok: true }, 'the server still serves (onClose threw meanwhile)')
  other.close()
})
