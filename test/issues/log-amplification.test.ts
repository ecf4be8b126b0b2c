/**
 * Issue 8, item 9: ERROR messages from clients were logged whole, and an unknown event_type was
 * echoed into the ERROR answer and the log (a 10 KB name made a 10.5 MB ERROR and 18.9 MB of log).
 * What the server echoes or logs from a client is clipped, and one connection's warnings are
 * rate-limited.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import wirebox from '../../lib/index.js'
import { MAX_ERROR_MESSAGE_CHARS, WARNINGS_PER_WINDOW } from '../../lib/server/bounded-log.js'
import { testProtocol } from '../plugin/fixture.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'

test('long names and client ERRORs: bounded answers, bounded log', async (t) => {
  let logged = 0
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { logged += chunk.length; done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(wirebox, { rateLimit: false })
  app.wirebox('/ws', { protocol: testProtocol }, (conn) => { conn.handle('math.add', ({ a, b }) => ({ sum: a + b })) })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()

  const longName = 'x'.repeat(10_000)
  await client.send(MessageType.REQUEST, { event_type: longName, id: 77, payload: {} })
  const answer = await client.next((m) => m.envelope?.id === 77)
  const message = (answer.envelope?.payload as { message: string }).message
  t.equal(answer.type, MessageType.ERROR, 'refused')
  t.ok(message.length <= MAX_ERROR_MESSAGE_CHARS + 40, `the ERROR message is clipped (${message.length} characters)`)
  t.match(message, /more characters/, 'and says it was clipped')

  const before = logged
  const huge = 'e'.repeat(100_000)
  for (let i = 0; i < 200; i++) await client.send(MessageType.ERROR, { event_type: 'error', payload: { code: 0x300, message: huge } })
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 }, 'every ERROR was read')
  const written = logged - before
  // 200 ERRORs of 100 KB each: at most one window of warnings, each clipped.
  t.ok(written < WARNINGS_PER_WINDOW * (MAX_ERROR_MESSAGE_CHARS + 400), `log grew by ${written} bytes for 20 MB of ERRORs`)
  t.ok(written > 0, 'the first warnings are logged')
  client.close()
})
