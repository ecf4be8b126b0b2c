/**
 * Issue 8, item 1: an EVENT or REQUEST named after a member of Object.prototype (`constructor`,
 * `__proto__`, `toString`...) crashed the process. Names from the wire are looked up as own keys
 * only: every such name, and arbitrary strings, get the catalog's "unknown" error, and the server
 * keeps serving.
 */
import { test } from 'tap'
import fc from 'fast-check'
import { buildApp } from '../plugin/fixture.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

const PROTOTYPE_NAMES = [...new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Function.prototype),
  'prototype', '__proto__', 'constructor'
])]

for (const encoding of ['messagepack', 'json'] as const) {
  test(`${encoding}: every Object.prototype member as event_type is an unknown event or request (0x200), and the server stays up`, async (t) => {
    const app = await buildApp()
    const base = await listen(app)
    t.teardown(async () => await shutdown(app))
    const client = await TestClient.connect(`${base}/ws?encoding=${encoding}`)
    await client.ready()
    let id = 1000
    for (const name of PROTOTYPE_NAMES) {
      const requestId = id++
      await client.send(MessageType.REQUEST, { event_type: name, id: requestId, payload: {} })
      const answer = await client.next((m) => m.envelope?.id === requestId)
      t.equal(answer.type, MessageType.ERROR, `request ${name}: ERROR`)
      t.equal((answer.envelope?.payload as { code: number }).code, 0x200, `request ${name}: 0x200`)
      const eventId = id++
      await client.send(MessageType.EVENT, { event_type: name, id: eventId, payload: {} }, 0x10)
      const refusal = await client.next((m) => m.envelope?.id === eventId)
      t.equal(refusal.type, MessageType.ERROR, `event ${name}: ERROR`)
      t.match((refusal.envelope?.payload as { message: string }).message, /Unknown event/, `event ${name}: unknown event`)
    }
    const other = await TestClient.connect(`${base}/ws?encoding=${encoding}`)
    const sum = await other.request('math.add', { a: 2, b: 3 })
    t.same(sum.envelope?.payload, { sum: 5 }, 'another client is still served')
    client.close()
    other.close()
  })
}

test('arbitrary event_type strings: only catalog answers, the server stays up', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  let id = 100_000 // apart from the ids client.request() takes
  await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...PROTOTYPE_NAMES)), async (name) => {
    const requestId = id++
    await client.send(MessageType.REQUEST, { event_type: name, id: requestId, payload: {} })
    const answer = await client.next((m) => m.envelope?.id === requestId)
    // Names of the test protocol's requests answer too; anything else is refused.
    return answer.type === MessageType.RESPONSE || answer.type === MessageType.ERROR
  }), { numRuns: 300 })
  t.same((await client.request('math.add', { a: 1, b: 1 })).envelope?.payload, { sum: 2 }, 'still served')
  client.close()
})
