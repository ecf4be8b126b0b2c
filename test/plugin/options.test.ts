import { test } from 'tap'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol, PLUGIN_DEFAULTS } from '../../lib/index.js'
import type { WireboxPluginOptions, WireboxRoute } from '../../lib/index.js'
import { testProtocol } from './fixture.js'
import { TestClient, shutdown } from './test-client.js'

test('bad plugin options fail register with one TypeError naming every bad field', async (t) => {
  const app = Fastify()
  const bad = { maxMessageSize: -1, compression: { level: 11, algorithms: ['br'] }, backpressure: { policy: 'explode' }, unknownOption: true } as unknown as WireboxPluginOptions
  const err = await app.register(wirebox, bad).ready().then(() => undefined, (e: unknown) => e as Error & { code?: string })
  t.ok(err instanceof TypeError)
  t.equal(err?.code, 'WIREBOX_ERR_INVALID_OPTION')
  for (const field of ['/maxMessageSize', '/compression/level', '/compression/algorithms/0', '/backpressure/policy', '/unknownOption']) t.match(err?.message, field)
  await app.close()
})

test('bad route options and a bad protocol throw at declaration, naming the fields', async (t) => {
  const app = Fastify()
  await app.register(wirebox)
  t.throws(() => app.wirebox('/a', { protocol: testProtocol, heartbeatIntervalMs: -5, encodings: ['xml'] } as unknown as WireboxRoute<typeof testProtocol>, () => {}),
    { code: 'WIREBOX_ERR_INVALID_OPTION', message: /(?=.*\/heartbeatIntervalMs)(?=.*\/encodings\/0)/ })
  t.throws(() => app.wirebox('/b', { protocol: { events: {} } } as unknown as WireboxRoute<typeof testProtocol>, () => {}), { message: /\/protocol/ })
  t.throws(() => app.wirebox('/c', { protocol: testProtocol, minVersion: 3, maxVersion: 2 }, () => {}), { message: /minVersion/ })
  t.throws(() => defineProtocol({ events: { x: { type: 'string' } as never } }), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /events\.x/ })
  t.throws(() => defineProtocol({ events: { x: Type.String() }, requests: { x: { payload: Type.String(), response: Type.String() } } }), { message: /also an event/ })
  t.throws(() => defineProtocol({ serverToClient: { x: Type.String() }, clientToServer: { x: Type.String() } }), { message: /clientToServer\.x \(also in serverToClient\)/ }, 'an event has one direction')
  t.throws(() => defineProtocol({ clientToServer: { y: 'no' as never }, requests: { x: { payload: Type.String(), response: Type.String() } }, serverToClient: { x: Type.String() } }),
    { message: /(?=.*clientToServer\.y)(?=.*requests\.x \(also an event, in serverToClient\))/ })
  app.wirebox('/d', { protocol: testProtocol }, () => {})
  t.throws(() => app.wirebox('/d', { protocol: testProtocol }, () => {}), { message: /already declared/ })
  await app.close()
})

test('route options override plugin defaults; the resolved options are the ones negotiated', async (t) => {
  const app = Fastify()
  await app.register(wirebox, { maxMessageSize: 1 << 20, compression: { threshold: 2048 }, heartbeatIntervalMs: 5000 })
  app.wirebox('/ws', { protocol: testProtocol, compression: { algorithms: ['deflate'] }, heartbeatIntervalMs: 7000 }, () => {})
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack&compression=gzip')
  t.match(await client.ready(), { compression: 'deflate', compression_threshold: 2048, max_message_size: 1 << 20, heartbeat_interval_ms: 7000 })
  t.equal(PLUGIN_DEFAULTS.heartbeatIntervalMs, 30000)
  t.ok(Object.isFrozen(PLUGIN_DEFAULTS))
})

test('uses an @fastify/websocket registered before it, and serves 426 to plain HTTP', async (t) => {
  const app = Fastify()
  await app.register(websocket)
  await app.register(wirebox)
  app.wirebox('/ws', { protocol: testProtocol }, () => {})
  t.teardown(() => shutdown(app))
  const response = await app.inject('/ws')
  t.equal(response.statusCode, 426)
  const client = await TestClient.inject(app, '/ws')
  t.equal((await client.ready()).encoding, 'json')
})

test('a setup function that throws closes the connection with 1011', async (t) => {
  const app = Fastify()
  await app.register(wirebox)
  app.wirebox('/ws', { protocol: testProtocol }, () => { throw new Error('boom') })
  const { listen } = await import('./test-client.js')
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const client = await TestClient.connect(`${base}/ws`)
  t.equal(await client.closed, 1011)
})
