import { test } from 'tap'
import Fastify from 'fastify'
import { Registry, register as globalRegistry } from 'prom-client'
import wireboxMetrics from '../../lib/prometheus.js'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, listen, shutdown } from './test-client.js'
import { rejectsWith } from '../helpers.js'

type Sample = { labels: Record<string, string | number>, value: number, metricName?: string }

/** The samples of a metric in `registry`, by label values joined as `a=1,b=2` (with `le` for buckets). */
async function samples (registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get()
  const out = new Map<string, number>()
  for (const s of (metric?.values ?? []) as Sample[]) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).sort().join(',')
    out.set(`${s.metricName ?? name}{${labels}}`, s.value)
  }
  return out
}

/** Samples of Prometheus text exposition: `name{a=1,b=2}` (labels sorted) to value. */
function parseExposition (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) continue
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}=${v}`).sort().join(',')
    out.set(`${match[1]}{${labels}}`, Number(match[3]))
  }
  return out
}

test('prom-client collectors: counters, gauges and the latency histogram after real traffic', async (t) => {
  const registry = new Registry()
  const app = await buildApp({ metricsRoute: '/builtin-metrics' })
  await app.register(wireboxMetrics, { registry })
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${await listen(app)}/ws?encoding=messagepack&compression=gzip`)
  await client.ready()

  const answer = await client.request('math.add', { a: 2, b: 3 })
  t.same(answer.envelope?.payload, { sum: 5 })
  t.equal((await client.request('math.add', { a: 2 })).type, MessageType.ERROR, 'a missing field is answered with ERROR')
  await client.send(MessageType.EVENT, { event_type: 'chat.message', payload: { room: 'r', text: 'hi' } })
  const echo = await client.next((m) => m.envelope?.event_type === 'chat.echo')
  t.same(echo.envelope?.payload, { room: 'r', text: 'HI' }, 'the event was handled')

  const received = await samples(registry, 'wirebox_messages_received_total')
  t.equal(received.get('wirebox_messages_received_total{route=/ws,type=REQUEST}'), 2)
  t.equal(received.get('wirebox_messages_received_total{route=/ws,type=EVENT}'), 1)
  const sent = await samples(registry, 'wirebox_messages_sent_total')
  t.equal(sent.get('wirebox_messages_sent_total{route=/ws,type=RESPONSE}'), 1)
  t.equal(sent.get('wirebox_messages_sent_total{route=/ws,type=ERROR}'), 1)
  t.equal(sent.get('wirebox_messages_sent_total{route=/ws,type=EVENT}'), 1)
  t.equal(sent.get('wirebox_messages_sent_total{route=/ws,type=PROTOCOL_NEGOTIATION}'), 1)
  t.same(await samples(registry, 'wirebox_errors_total'), new Map([['wirebox_errors_total{code=0x201,route=/ws}', 1]]))
  t.same(await samples(registry, 'wirebox_open_connections'), new Map([['wirebox_open_connections{route=/ws}', 1]]))
  t.same(await samples(registry, 'wirebox_connections_total'), new Map([['wirebox_connections_total{route=/ws}', 1]]))
  t.same(await samples(registry, 'wirebox_dropped_messages_total'), new Map([['wirebox_dropped_messages_total{route=/ws}', 0]]))

  const snapshot = app.wirebox.metrics().total
  t.equal((await samples(registry, 'wirebox_received_bytes_total')).get('wirebox_received_bytes_total{route=/ws}'), snapshot.wireBytesIn)
  t.ok(snapshot.wireBytesIn > 0)
  t.equal((await samples(registry, 'wirebox_sent_bytes_total')).get('wirebox_sent_bytes_total{route=/ws}'), snapshot.wireBytesOut)
  const bodyIn = await samples(registry, 'wirebox_received_body_bytes_total')
  t.equal(bodyIn.get('wirebox_received_body_bytes_total{route=/ws,type=EVENT}'), snapshot.bytesIn.EVENT)
  t.ok((snapshot.bytesIn.EVENT ?? 0) > 'chat.message'.length, 'body bytes of the event')
  t.equal((await samples(registry, 'wirebox_sent_body_bytes_total')).get('wirebox_sent_body_bytes_total{route=/ws,type=RESPONSE}'), snapshot.bytesOut.RESPONSE)

  // One request was answered (the ERROR is not timed); its duration is in seconds.
  const duration = await samples(registry, 'wirebox_request_duration_seconds')
  t.equal(duration.get('wirebox_request_duration_seconds_count{route=/ws}'), 1)
  const seconds = duration.get('wirebox_request_duration_seconds_sum{route=/ws}') ?? -1
  t.ok(seconds > 0 && seconds < 3, `${seconds} s`)
  t.ok(Math.abs(seconds - snapshot.requestLatencyMs.sum / 1000) < 1e-9, 'the same duration as the snapshot, in seconds')
  t.equal(duration.get('wirebox_request_duration_seconds_bucket{le=+Inf,route=/ws}'), 1)
  t.equal(duration.get('wirebox_request_duration_seconds_bucket{le=10,route=/ws}'), 1)
  const firstBucket = seconds <= 0.001 ? 1 : 0
  t.equal(duration.get('wirebox_request_duration_seconds_bucket{le=0.001,route=/ws}'), firstBucket)

  const text = await registry.metrics()
  t.match(text, '# TYPE wirebox_request_duration_seconds histogram')
  t.match(text, '# TYPE wirebox_messages_received_total counter')
  t.match(text, '# TYPE wirebox_open_connections gauge')
  t.match(text, 'wirebox_messages_received_total{route="/ws",type="REQUEST"} 2')

  // metricsRoute writes the same samples by hand: one table of names for both.
  const builtin = parseExposition((await app.inject('/builtin-metrics')).body)
  t.same(parseExposition(text), builtin, 'prom-client and metricsRoute expose the same samples')
  t.ok(builtin.size > 30, `${builtin.size} samples`)

  client.close()
  await client.closed
  for (let i = 0; i < 50 && app.wirebox.metrics().total.connections > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(await samples(registry, 'wirebox_open_connections'), new Map([['wirebox_open_connections{route=/ws}', 0]]), 'the gauge goes down')
})

test('prom-client collectors: a route with no request yet, the global registry, a prefix, removal on close', async (t) => {
  const app = await buildApp()
  await app.register(wireboxMetrics, { prefix: 'ecg_ws_' })
  await app.ready()
  const duration = await samples(globalRegistry, 'ecg_ws_request_duration_seconds')
  t.equal(duration.get('ecg_ws_request_duration_seconds_count{route=/ws}'), 0, 'zeros for a route not yet timed')
  t.equal(duration.get('ecg_ws_request_duration_seconds_bucket{le=+Inf,route=/ws}'), 0)
  t.ok(globalRegistry.getSingleMetric('ecg_ws_messages_received_total'), 'in the global registry, with the prefix')
  t.notOk(globalRegistry.getSingleMetric('wirebox_messages_received_total'))
  await app.close()
  t.notOk(globalRegistry.getSingleMetric('ecg_ws_messages_received_total'), 'removed when the app closes')
  t.notOk(globalRegistry.getSingleMetric('ecg_ws_request_duration_seconds'))

  // so a new app can register again in the same registry
  const again = await buildApp()
  await again.register(wireboxMetrics, { prefix: 'ecg_ws_' })
  t.ok(globalRegistry.getSingleMetric('ecg_ws_open_connections'))
  await again.close()
})

test('prom-client collectors: bad options and a missing wirebox fail clearly', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const err = await rejectsWith(t, async () => { await app.register(wireboxMetrics, { prefix: 'no spaces', registry: 'nope' } as never) }, 'WIREBOX_ERR_INVALID_OPTION')
  t.ok(err instanceof TypeError)
  t.match((err as Error).message, /\/prefix/)
  t.match((err as Error).message, /\/registry/)

  const bare = Fastify()
  t.teardown(() => bare.close())
  await t.rejects(async () => { await bare.register(wireboxMetrics, { registry: new Registry() }) }, /fastify-wirebox/, 'needs the wirebox plugin first')
})
