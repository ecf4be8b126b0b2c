/**
 * Issue 8, item 7: one client's large requests stalled everyone (queued messages ran back to back
 * without yielding). Handlers and large responses take fair turns: a bystander's PING is answered
 * between two pieces of the attackers' work, and its request and its response each wait for at
 * most one piece of work per other connection. Counted in handler runs, not timed.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

const protocol = defineProtocol({
  requests: {
    heavy: { payload: Type.Object({}), response: Type.Object({ n: Type.Integer() }) },
    light: { payload: Type.Object({}), response: Type.Object({ n: Type.Integer() }) }
  }
})

test('4 connections x 8 heavy requests: a bystander is served between pieces of work', async (t) => {
  let ran = 0
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  app.wirebox('/ws', { protocol }, (conn) => {
    conn.handle('heavy', () => {
      const end = performance.now() + 15
      while (performance.now() < end) { /* a synchronous handler: 15 ms of work */ }
      return { n: ++ran }
    })
    conn.handle('light', () => ({ n: ran }))
  })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const attackers = await Promise.all([1, 2, 3, 4].map(async () => await TestClient.connect(`${base}/ws?encoding=messagepack`)))
  const bystander = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  for (const c of [...attackers, bystander]) await c.ready()

  let id = 1
  for (const a of attackers) for (let k = 0; k < 8; k++) await a.send(MessageType.REQUEST, { event_type: 'heavy', id: id++, payload: {} })
  await new Promise((resolve) => setTimeout(resolve, 5))
  const pingsAt: number[] = []
  for (let i = 0; i < 5; i++) {
    const before = ran
    await bystander.send(MessageType.PING, { event_type: 'ping', id: 7000 + i })
    await bystander.next((m) => m.type === MessageType.PONG && m.envelope?.id === 7000 + i, 10_000)
    pingsAt.push(ran - before)
  }
  t.ok(pingsAt.every((n) => n <= 2), `each PING waited for at most 2 heavy handlers (${pingsAt.join(', ')}), not for the backlog of 32`)
  const before = ran
  const light = await bystander.request('light', {}, 10_000)
  t.equal(light.type, MessageType.RESPONSE)
  // Its request and its response each wait behind at most one piece of work per other connection.
  t.ok(ran - before <= 2 * attackers.length, `a light request waited for ${ran - before} heavy handlers, not for the backlog`)
  for (const a of attackers) await a.next(() => a.ofType(MessageType.RESPONSE).length === 8, 10_000)
  t.equal(ran, 32, 'every heavy request was answered')
  for (const c of [...attackers, bystander]) c.close()
})
