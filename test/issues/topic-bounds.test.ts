/**
 * Issue 8, items 3, 4, 12 and 13 (memory broker): replays obey back-pressure; topics nobody
 * listens to are forgotten; subscriptions and topics are capped; a subscriber that falls behind
 * catches up from history or is told exactly what it lost; subscription answers keep request
 * order; topic names are well-formed.
 */
import { test } from 'tap'
import { buildApp } from '../plugin/fixture.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'
import { memoryBroker } from '../../lib/index.js'
import type { WireboxConnection } from '../../lib/index.js'
import type { DecodedMessage } from '../../lib/index.js'

interface Ack { topic: string, seq: number, recovered?: boolean, first_seq?: number }
const ackOf = (m: DecodedMessage): Ack => m.envelope?.payload as Ack
const codeOf = (m: DecodedMessage): number => (m.envelope?.payload as { code: number }).code
const pauseReading = (client: TestClient): { resume: () => void } => {
  const socket = (client.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  return { resume: () => socket.resume() }
}

/**
 * Checks that the topic's seqs arrived in order, without duplicates, every hole announced, from
 * the last answer to a SUBSCRIBE on (a new SUBSCRIBE with `since` starts the replay over).
 */
function accountFor (client: TestClient, topic: string, last: number, since = 0): { received: number, announced: number, silent: number[] } {
  const notices: Ack[] = []
  const seen: number[] = []
  let lastAck = -1
  client.received.forEach((m, i) => {
    if (m.type === MessageType.SUBSCRIPTION_ACK && m.envelope?.id !== undefined && ackOf(m).topic === topic) lastAck = i
  })
  for (const m of client.received.slice(lastAck + 1)) {
    if (m.type === MessageType.SUBSCRIPTION_ACK && m.envelope?.id === undefined && ackOf(m).topic === topic) notices.push(ackOf(m))
    if (m.type === MessageType.EVENT && m.envelope?.topic === topic) {
      const seq = m.envelope.seq as number
      const previous = seen.at(-1) ?? 0
      if (seq <= previous) throw new Error(`seq ${seq} after ${previous}: out of order or twice`)
      seen.push(seq)
    }
  }
  const announced = new Set<number>()
  let from = since + 1
  for (const seq of [...seen, last + 1]) {
    // A hole from..seq-1 must be covered by a notice whose first_seq is past it.
    for (let s = from; s < seq; s++) if (notices.some((n) => (n.first_seq ?? 0) > s)) announced.add(s)
    from = seq + 1
  }
  const silent: number[] = []
  from = since + 1
  for (const seq of [...seen, last + 1]) {
    for (let s = from; s < seq; s++) if (!announced.has(s)) silent.push(s)
    from = seq + 1
  }
  return { received: seen.length, announced: announced.size, silent }
}

test('item 3: SUBSCRIBE since 0, many times, from a socket that never reads: bounded by the high-water mark', async (t) => {
  const highWaterMark = 512 * 1024
  const app = await buildApp({ backpressure: { highWaterMark }, validateOutgoing: false })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const values = Array.from({ length: 4000 }, (_, i) => i + 0.5) // ~36 KB a message
  for (let i = 0; i < 300; i++) await app.wirebox.publish('h', 'bulk.data', { values }) // ~10 MB of history
  const attacker = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  await attacker.ready()
  const reading = pauseReading(attacker)
  for (let i = 0; i < 60; i++) await attacker.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: i + 1, payload: { topic: 'h', since: 0 } })
  const server = [...app.wirebox.connections][0] as WireboxConnection
  let peak = 0
  for (let i = 0; i < 50; i++) {
    peak = Math.max(peak, server.socket.bufferedAmount)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // Without back-pressure on replays, 60 x 10 MB were queued.
  t.ok(peak <= highWaterMark + 4 * 40_000, `the server buffered at most ${peak} bytes for a reader that does not read`)
  const bystander = await TestClient.connect(`${base}/ws`)
  t.same((await bystander.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 }, 'others are served meanwhile')
  reading.resume()
  await attacker.next(() => attacker.ofType(MessageType.EVENT).filter((m) => m.envelope?.seq === 300).length > 0, 20_000)
  const account = accountFor(attacker, 'h', 300)
  t.same(account.silent, [], 'no silent gap once it reads')
  attacker.close()
  bystander.close()
})

test('item 12: a slow subscriber catches up from history; what history lost is announced, never silent', async (t) => {
  for (const historySize of [1000, 10]) {
    const highWaterMark = 256 * 1024
    const app = await buildApp({ backpressure: { highWaterMark }, validateOutgoing: false, history: { size: historySize } })
    const base = await listen(app)
    const slow = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
    await slow.subscribe('firehose')
    const reading = pauseReading(slow)
    const values = Array.from({ length: 8000 }, (_, i) => i + 0.5) // ~72 KB
    for (let i = 0; i < 100; i++) await app.wirebox.publish('firehose', 'bulk.data', { values })
    t.ok(app.wirebox.metrics().total.dropped > 0, `history ${historySize}: messages were held back from the slow subscriber`)
    reading.resume()
    await slow.next(() => slow.ofType(MessageType.EVENT).some((m) => m.envelope?.seq === 100), 20_000)
    const account = accountFor(slow, 'firehose', 100)
    t.same(account.silent, [], `history ${historySize}: no silent gap`)
    if (historySize === 1000) t.equal(account.received, 100, 'with enough history, everything arrives, in order')
    else t.ok(account.announced > 0 && account.received >= 10, `with 10 messages of history: ${account.received} arrived, ${account.announced} announced lost`)
    slow.close()
    await shutdown(app)
  }
})

test('item 4: the memory broker forgets topics nobody listens to once their history expired, and caps the rest', async (t) => {
  const broker = memoryBroker({ historyTtlMs: 30, maxTopics: 100 })
  t.teardown(async () => await broker.close())
  broker.attach({ message () {}, gap () {} })
  for (let i = 0; i < 1000; i++) await broker.publish({ topic: `patient/${i}`, eventType: 'x', payload: {}, timestamp: Date.now(), priority: false, ack: false })
  t.equal(await broker.currentSeq('patient/0'), 0, 'beyond maxTopics, the least recently published topic is forgotten')
  t.equal(await broker.currentSeq('patient/999'), 1, 'the most recent is remembered')
  await broker.listen('patient/999')
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(await broker.currentSeq('patient/998'), 0, 'its history expired and nobody listens: forgotten')
  t.equal(await broker.currentSeq('patient/999'), 1, 'a topic someone listens to is kept')
})

test('item 4: a connection may hold maxSubscriptions topics; a server maxTopics topics (0x204)', async (t) => {
  const app = await buildApp({ maxSubscriptions: 5, maxTopics: 8 })
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  for (let i = 0; i < 5; i++) t.equal((await client.subscribe(`t${i}`)).type, MessageType.SUBSCRIPTION_ACK)
  const sixth = await client.subscribe('t5')
  t.equal(sixth.type, MessageType.ERROR, 'the sixth subscription is refused')
  t.equal(codeOf(sixth), 0x204, 'with 0x204')
  t.equal((await client.subscribe('t0', 0)).type, MessageType.SUBSCRIPTION_ACK, 'subscribing again to a held topic is fine')
  const other = await TestClient.inject(app, '/ws?encoding=messagepack')
  for (let i = 5; i < 8; i++) t.equal((await other.subscribe(`t${i}`)).type, MessageType.SUBSCRIPTION_ACK)
  const ninth = await other.subscribe('t8')
  t.equal(codeOf(ninth), 0x204, 'the ninth topic of the server is refused')
  t.match((ninth.envelope?.payload as { message: string }).message, /Too many topics/)
  t.equal((await other.subscribe('t0')).type, MessageType.SUBSCRIPTION_ACK, 'an existing topic is still open to subscribers')
})

test('item 13: subscription answers keep request order; UNSUBSCRIBE tells nothing of a topic the client was refused', async (t) => {
  const app = await buildApp({}, { authorizeSubscribe: (topic) => topic !== 'secret' })
  t.teardown(async () => await shutdown(app))
  await app.wirebox.publish('secret', 'chat.echo', { room: 's', text: 'x' })
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  await client.ready()
  for (let i = 0; i < 10; i++) {
    await client.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: 100 + 2 * i, payload: { topic: `new${i}` } })
    await client.send(MessageType.UNSUBSCRIBE, { event_type: 'unsubscribe', id: 101 + 2 * i, payload: { topic: `new${i}` } })
  }
  await client.next(() => client.ofType(MessageType.SUBSCRIPTION_ACK).length === 20)
  t.same(client.ofType(MessageType.SUBSCRIPTION_ACK).map((m) => m.envelope?.id), Array.from({ length: 20 }, (_, i) => 100 + i), 'answered in request order')
  const server = [...app.wirebox.connections][0] as WireboxConnection
  t.equal(server.subscriptions.size, 0, 'the connection lists no topic')
  t.equal(app.wirebox.subscriberCount('new0'), 0)
  t.equal((await client.subscribe('secret')).type, MessageType.ERROR, 'refused')
  await client.send(MessageType.UNSUBSCRIBE, { event_type: 'unsubscribe', id: 999, payload: { topic: 'secret' } })
  const answer = await client.next((m) => m.envelope?.id === 999)
  t.same(ackOf(answer), { topic: 'secret', seq: 0 }, 'the seq of a topic it may not see is not told')
})

test('topic names: lone surrogates, empty and over-long names are refused at SUBSCRIBE and publish (0x200)', async (t) => {
  const app = await buildApp()
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=json')
  for (const topic of ['ecg/x\ud800', 'ecg/\udc00y', '', 'x'.repeat(3073), 'é'.repeat(1537)]) {
    const answer = await client.subscribe(topic)
    t.equal(answer.type, MessageType.ERROR, `SUBSCRIBE ${JSON.stringify(topic.slice(0, 12))}: refused`)
    t.equal(codeOf(answer), topic === '' ? 0x200 : 0x200)
    await t.rejects(app.wirebox.publish(topic, 'chat.echo', { room: 'r', text: 't' }), { code: 'WIREBOX_ERR_INVALID_TOPIC' })
  }
  t.equal((await client.subscribe('ecg/x\ud83d\ude00')).type, MessageType.SUBSCRIPTION_ACK, 'a well-formed pair is fine')
})
