/** The ECG example: the names and behaviour that outside tests rely on. */
import { test } from 'tap'
import { buildServer } from '../example/server.js'
import { protocol } from '../example/protocol.js'
import { TestClient, MessageType, Flag, shutdown, listen } from './plugin/test-client.js'
import type { ErrorPayload } from '../lib/index.js'

test('ecg.history answers exactly `samples` values at 250 Hz, large ones compressed and chunked', async (t) => {
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack&version=3&compression=gzip`)
  const small = await client.request('ecg.history', { patient_id: 'p1', samples: 10 })
  t.match(small.envelope?.payload, { patient_id: 'p1', sampling_rate: 250 })
  t.equal((small.envelope?.payload as { signal: number[] }).signal.length, 10)
  const large = await client.request('ecg.history', { patient_id: 'p1', samples: 1_000_000 }, 20_000)
  t.equal((large.envelope?.payload as { signal: number[] }).signal.length, 1_000_000)
  t.ok((large.flags & Flag.COMPRESSED) !== 0, 'compressed')
  const invalid = await client.request('ecg.history', { patient_id: '', samples: 0 })
  t.equal((invalid.envelope?.payload as ErrorPayload).code, 0x200)
  const tooMany = await client.request('ecg.history', { patient_id: 'p1', samples: 1_000_001 })
  t.equal((tooMany.envelope?.payload as ErrorPayload).code, 0x200)
})

test('SUBSCRIBE ecg/<patient_id>: ecg.data batches of 25 in order; ecg.annotate reaches subscribers; PRIORITY alerts', async (t) => {
  const app = await buildServer({ logger: false, alertEvery: 3 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const watcher = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  const jsonWatcher = await TestClient.connect(`${base}/ws?encoding=json`)
  t.equal((await watcher.subscribe('ecg/p7')).type, MessageType.SUBSCRIPTION_ACK)
  t.equal((await jsonWatcher.subscribe('ecg/p7')).type, MessageType.SUBSCRIPTION_ACK)
  await watcher.next(() => watcher.received.filter((m) => m.envelope?.event_type === 'ecg.data').length >= 10, 5000)
  const data = watcher.received.filter((m) => m.envelope?.event_type === 'ecg.data')
  for (const [i, m] of data.entries()) {
    const payload = m.envelope?.payload as { patient_id: string, seq: number, sampling_rate: number, signal: number[] }
    t.equal(payload.patient_id, 'p7')
    t.equal(payload.sampling_rate, 250)
    t.equal(payload.signal.length, 25)
    t.equal(m.envelope?.topic, 'ecg/p7')
    if (i > 0) t.equal(payload.seq, (data[i - 1]?.envelope?.payload as { seq: number }).seq + 1, 'no gap')
  }
  const alert = await watcher.next((m) => m.envelope?.event_type === 'anomaly.alert')
  t.ok((alert.flags & Flag.PRIORITY) !== 0, 'anomaly.alert carries PRIORITY')
  const annotator = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  t.same((await annotator.request('ecg.annotate', { patient_id: 'p7', note: 'checked leads' })).envelope?.payload, { ok: true })
  for (const client of [watcher, jsonWatcher]) {
    const note = await client.next((m) => m.envelope?.event_type === 'ecg.annotation')
    t.same(note.envelope?.payload, { patient_id: 'p7', note: 'checked leads' })
  }
  t.equal((await annotator.subscribe('not-a-patient-topic')).type, MessageType.ERROR, 'only ecg/<patient_id> topics')
})

test('the example listens on /ws, serves /metrics, and its protocol is exported as `protocol`', async (t) => {
  t.ok(protocol.requests['ecg.history'] && protocol.requests['ecg.annotate'])
  t.ok(protocol.serverToClient['ecg.data'] && protocol.serverToClient['anomaly.alert'] && protocol.serverToClient['ecg.annotation'])
  t.ok(protocol.clientToServer['anomaly.seen'])
  const app = await buildServer({ logger: false })
  t.teardown(() => app.close())
  t.equal((await app.inject('/ws')).statusCode, 426)
  const metrics = await app.inject('/metrics')
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(metrics.body, /wirebox_open_connections\{route="\/ws"\} 0/)
  t.match(metrics.body, /# TYPE wirebox_request_duration_seconds histogram/)
})

test('the example runs at most maxStreams patient streams: clients cannot start streams without bound', async (t) => {
  const app = await buildServer({ logger: false, maxStreams: 3 })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  for (const patient of ['a', 'b', 'c']) t.equal((await client.subscribe(`ecg/${patient}`)).type, MessageType.SUBSCRIPTION_ACK, `ecg/${patient}: streaming`)
  const fourth = await client.subscribe('ecg/d')
  t.equal(fourth.type, MessageType.ERROR, 'a fourth patient is refused')
  t.equal((fourth.envelope?.payload as { code: number }).code, 0x203, 'with 0x203')
  t.equal((await client.subscribe('ecg/a')).type, MessageType.SUBSCRIPTION_ACK, 'a running stream still takes subscribers')
  client.close()
})
