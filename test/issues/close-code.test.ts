/**
 * Issue 9, item 4: on `app.close()` clients received 1005 instead of 1001 (@fastify/websocket
 * closed the sockets first). And the typed client does not storm the server: it reconnects with
 * its backoff.
 */
import { test } from 'tap'
import { buildApp, testProtocol } from '../plugin/fixture.js'
import { TestClient, listen } from '../plugin/test-client.js'
import { createClient } from '../../lib/client/node.js'
import type { ClientState } from '../../lib/client/client.js'

test('app.close() sends 1001 (going away) to every client', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  const clients = await Promise.all([1, 2, 3].map(async () => await TestClient.connect(`${base}/ws?encoding=messagepack`)))
  for (const c of clients) await c.ready()
  const typed = createClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, reconnect: { initialDelayMs: 200, maxDelayMs: 400 } })
  await typed.ready()
  const states: Array<{ state: ClientState, at: number }> = []
  typed.onStateChange((state) => states.push({ state, at: Date.now() }))
  const closedAt = Date.now()
  await app.close()
  t.same(await Promise.all(clients.map(async (c) => await c.closed)), [1001, 1001, 1001], 'every raw client got 1001')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(states[0]?.state, 'reconnecting', 'the typed client reconnects')
  typed.close()
  t.ok(states.length <= 3, `no reconnect storm: ${states.length} state changes in 300 ms (${JSON.stringify(states.map((s) => [s.state, s.at - closedAt]))})`)
})
