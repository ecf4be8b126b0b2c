/**
 * msgpack-compact end to end: the typed client given the protocol speaks it by default, against
 * the ECG example (requests, topic pushes, quantized signals); a client whose schemas differ is
 * told clearly and stops; a route that does not allow it falls back to messagepack.
 */
import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { buildServer } from '../example/server.js'
import { protocol } from '../example/protocol.js'
import { buildApp, testProtocol } from './plugin/fixture.js'
import WebSocket from 'ws'
import { MessageType, listen, shutdown } from './plugin/test-client.js'
import { MessageDecoder, MessageEncoder, nodePlatform } from '../lib/index.js'
import type { DecodedMessage } from '../lib/index.js'
import { createClient } from '../lib/client/node.js'
import { defineProtocol } from '../lib/index.js'
import { until } from './helpers.js'

test('the typed client with the protocol speaks msgpack-compact with the example', async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 20 })
  const base = await listen(app)
  const client = createClient<typeof protocol>(`${base}/ws`, { protocol, reconnect: false })
  t.teardown(async () => { client.close(); await shutdown(app) })
  const negotiation = await client.ready()
  t.equal(negotiation.encoding, 'msgpack-compact', 'negotiated by default')
  t.match(negotiation.layout, { hash: /^[0-9a-f]{16}$/, events: ['ecg.data', 'anomaly.alert', 'ecg.annotation', 'anomaly.seen'] })
  const history = await client.request('ecg.history', { patient_id: 'p1', samples: 250 })
  t.equal(history.signal.length, 250, 'a request answered')
  t.ok(history.signal.every((v) => Number.isInteger(Math.round(v * 1000)) && Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6), 'millivolts with three decimals, exactly')
  const pushes: number[][] = []
  client.on('ecg.data', ({ signal }) => { pushes.push(signal) })
  await client.subscribe('ecg/p1')
  await until(() => pushes.length >= 3)
  t.equal(pushes[0]?.length, 25, 'topic pushes decode')
  t.ok(client.stats.wireBytesIn < client.stats.bodyBytesIn * 2, 'bytes are counted')
})

test('a client whose schemas differ is told (WIREBOX_ERR_LAYOUT_MISMATCH) and stops', async (t) => {
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  const stale = defineProtocol({ ...protocol, serverToClient: { ...protocol.serverToClient, 'ecg.extra': Type.Object({ x: Type.Number() }) } })
  const client = createClient<typeof stale>(`${base}/ws`, { protocol: stale, reconnect: { initialDelayMs: 10 } })
  t.teardown(async () => { client.close(); await shutdown(app) })
  const errors: Error[] = []
  client.onError((err) => errors.push(err))
  await until(() => client.state === 'closed')
  t.match(errors[0], { code: 'WIREBOX_ERR_LAYOUT_MISMATCH', message: /only this side has: \[ecg\.extra\]/ }, 'the error says what differs')
  await t.rejects(client.request('ecg.history', { patient_id: 'p1', samples: 1 }), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' }, 'and the client does not retry')
})

test('a raw client announcing another layout hash gets 0x200 and a close (1002)', async (t) => {
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  // Control messages stay self-describing MessagePack on a compact connection (PROTOCOL.md 9).
  const settings = { encoding: 'messagepack' as const, version: 3 as const, compression: 'none' as const }
  const decoder = new MessageDecoder(settings, { platform: nodePlatform })
  const encoder = new MessageEncoder(settings, { platform: nodePlatform })
  const ws = new WebSocket(`${base}/ws?encoding=msgpack-compact&compression=none`)
  const received: DecodedMessage[] = []
  const closed = new Promise<number>((resolve) => ws.on('close', resolve))
  ws.on('message', (data: Buffer) => { decoder.decode(data).then((m) => { if (m !== undefined) received.push(m) }, () => {}) })
  await until(() => received.length > 0)
  t.match(received[0]?.envelope?.payload, { encoding: 'msgpack-compact', layout: { hash: /^[0-9a-f]{16}$/ } }, 'the negotiation is plain MessagePack')
  for (const frame of await encoder.encode({ type: MessageType.VERSION_CHECK, envelope: { event_type: 'version_check', timestamp: Date.now(), payload: { version: 3, encoding: 'msgpack-compact', layout_hash: '0123456789abcdef' } } })) ws.send(frame)
  t.equal(await closed, 1002, 'closed as a protocol error')
  const refusal = received.find((m) => m.type === MessageType.ERROR)
  t.equal((refusal?.envelope?.payload as { code: number } | undefined)?.code, 0x200, 'after an ERROR 0x200')
})

test('a route without msgpack-compact falls back to messagepack', async (t) => {
  const app = await buildApp({ encodings: ['messagepack', 'json'] })
  const base = await listen(app)
  const client = createClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, reconnect: false })
  t.teardown(async () => { client.close(); await shutdown(app) })
  const negotiation = await client.ready()
  t.same([negotiation.encoding, negotiation.fallback, negotiation.requested_encoding], ['messagepack', true, 'msgpack-compact'])
  t.same(await client.request('math.add', { a: 2, b: 3 }), { sum: 5 })
  t.throws(() => createClient(`${base}/ws`, { encoding: 'msgpack-compact' }), { code: 'WIREBOX_ERR_INVALID_OPTION' }, 'compact without the protocol is refused')
})
