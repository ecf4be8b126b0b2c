/**
 * A client that floods SUBSCRIBEs while authorizeSubscribe hangs: the connection reads on (a
 * SUBSCRIBE does not hold the inbox), so the pending ones are bounded by maxSubscriptions and
 * the rest refused with 0x204; the connection and the server go on.
 */
import { test } from 'tap'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, shutdown } from './test-client.js'
import type { ErrorPayload } from '../../lib/index.js'

test('SUBSCRIBEs pending at once are bounded by maxSubscriptions; the rest are refused', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let asked = 0
  const app = await buildApp({}, {
    maxSubscriptions: 3,
    authorizeSubscribe: async () => {
      asked++
      await gate
      return true
    }
  })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  for (let i = 1; i <= 10; i++) await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: i, payload: { topic: `t/${i}` } })
  for (let i = 4; i <= 10; i++) {
    const refused = await client.next((m) => m.envelope?.id === i)
    t.equal(refused.type, MessageType.ERROR, `SUBSCRIBE ${i} refused`)
    t.equal((refused.envelope?.payload as ErrorPayload).code, 0x204)
  }
  t.equal(asked, 1, 'one at a time: only the first is with the hook')
  release()
  for (let i = 1; i <= 3; i++) t.equal((await client.next((m) => m.envelope?.id === i)).type, MessageType.SUBSCRIPTION_ACK, `SUBSCRIBE ${i} acknowledged`)
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 }, 'the connection goes on')
  await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 99, payload: { topic: 't/again' } })
  const over = await client.next((m) => m.envelope?.id === 99)
  t.equal((over.envelope?.payload as ErrorPayload).code, 0x204, 'three subscriptions: the cap itself still applies')
})
