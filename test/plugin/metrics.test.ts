import { test } from 'tap'
import { buildApp } from './fixture.js'
import { TestClient, shutdown } from './test-client.js'

test('metrics: messages and bytes per type, compression, errors, latency; Prometheus text', async (t) => {
  const app = await buildApp({ metricsRoute: '/metrics' })
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack&compression=gzip')
  await client.request('math.add', { a: 1, b: 2 })
  await client.request('data.range', { count: 5000 })
  await client.request('math.add', { a: 1 })
  const { total, routes } = app.wirebox.metrics()
  t.same(routes['/ws'], total, 'one route: the total is the route')
  t.equal(total.connections, 1)
  t.equal(total.messagesIn.REQUEST, 3)
  t.equal(total.messagesOut.RESPONSE, 2)
  t.equal(total.messagesOut.ERROR, 1)
  t.equal(total.messagesOut.PROTOCOL_NEGOTIATION, 1)
  t.equal(total.errors['0x201'], 1)
  t.equal(total.requestLatencyMs.count, 2)
  t.ok((total.bytesOut.RESPONSE ?? 0) > 5000 * 4, 'body bytes per type')
  t.ok((total.bytesIn.REQUEST ?? 0) > 0)
  t.ok(total.bodyBytesOut > total.wireBytesOut, `compression saved bytes: ${total.bodyBytesOut} body, ${total.wireBytesOut} on the wire`)
  t.ok(total.wireBytesIn > 0)
  const text = (await app.inject('/metrics')).body
  t.match(text, /# TYPE wirebox_messages_total counter/)
  t.match(text, /wirebox_messages_total\{route="\/ws",direction="in",type="REQUEST"\} 3/)
  t.match(text, /wirebox_errors_total\{route="\/ws",code="0x201"\} 1/)
  t.match(text, /wirebox_request_duration_ms_count\{route="\/ws"\} 2/)
  t.match(text, /wirebox_connections\{route="\/ws"\} 1/)
  t.match(text, /wirebox_message_bytes_total\{route="\/ws",direction="out",type="RESPONSE"\} \d+/)
  client.close()
  await client.closed
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(app.wirebox.metrics().total.connections, 0)
})
