import { test } from 'tap'
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import ts from 'typescript'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Parser } from '@asyncapi/parser'
import { protocol } from '../example/protocol.js'
import { buildServer } from '../example/server.js'
import { protocolJsonSchema } from '../lib/schema/json-schema.js'
import { protocolAsyncApi } from '../lib/schema/asyncapi.js'
import { protocolTypeScript } from '../lib/schema/typescript.js'
import { ownSchemaFiles } from '../lib/schema/own-schemas.js'
import { listen, shutdown } from './plugin/test-client.js'
import { testProtocol, buildApp } from './plugin/fixture.js'

const ajv = (): Ajv2020 => new Ajv2020({ strict: false, allErrors: true })

test('the AsyncAPI 3.0 document of the example validates with @asyncapi/parser', async (t) => {
  for (const p of [protocol, testProtocol]) {
    const { diagnostics, document } = await new Parser().parse(protocolAsyncApi(p, { path: '/ws' }) as never)
    t.same(diagnostics.filter((d) => d.severity === 0).map((d) => d.message), [], 'no errors')
    t.ok(document, 'parsed')
    t.equal(document?.channels().all()[0]?.address(), '/ws')
  }
})

test('the AsyncAPI document states who sends each event: the server\'s send and receive operations', async (t) => {
  const example = protocolAsyncApi(protocol, { path: '/ws' }) as { operations: Record<string, { action: string }>, components: { messages: Record<string, Record<string, unknown>> } }
  t.match(example.operations['send.ecg.data'], { action: 'send' }, 'serverToClient: the server sends it')
  t.notOk(example.operations['receive.ecg.data'], 'and never receives it')
  t.match(example.operations['receive.anomaly.seen'], { action: 'receive' }, 'clientToServer: the server receives it')
  t.notOk(example.operations['send.anomaly.seen'], 'and never sends it')
  t.match(example.components.messages['event.ecg.data'], { 'x-wirebox-direction': 'serverToClient', summary: /server to client/ })
  t.match(example.components.messages['event.anomaly.seen'], { 'x-wirebox-direction': 'clientToServer', summary: /client to server/ })
  const both = protocolAsyncApi(testProtocol) as { operations: Record<string, { action: string }> }
  t.ok(both.operations['send.chat.message'] && both.operations['receive.chat.message'], '`events`: both directions')
})

test('the JSON Schema validates real envelopes captured from the example, and refuses broken ones', async (t) => {
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const ws = new WebSocket(`${base}/ws?encoding=json&compression=none`)
  const captured: unknown[] = []
  ws.on('message', (data) => captured.push(JSON.parse(data.toString())))
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(JSON.stringify({ type: 0x20, event_type: 'subscribe', timestamp: Date.now(), id: 1, payload: { topic: 'ecg/p1' } }))
  // The subscription is in place once it is acknowledged (the annotation below is published to it).
  while (!captured.some((m) => (m as { event_type: string }).event_type === 'subscription_ack')) await new Promise((resolve) => setTimeout(resolve, 10))
  ws.send(JSON.stringify({ type: 0x02, event_type: 'ecg.history', timestamp: Date.now(), id: 2, payload: { patient_id: 'p1', samples: 20 } }))
  ws.send(JSON.stringify({ type: 0x02, event_type: 'ecg.annotate', timestamp: Date.now(), id: 3, payload: { patient_id: 'p1', note: 'hello' } }))
  while (!captured.some((m) => (m as { event_type: string }).event_type === 'ecg.data')) await new Promise((resolve) => setTimeout(resolve, 20))
  ws.terminate()
  const validate = ajv().compile(protocolJsonSchema(protocol))
  const kinds = new Set(captured.map((m) => (m as { event_type: string }).event_type))
  for (const kind of ['protocol_negotiation', 'subscription_ack', 'ecg.history', 'ecg.annotate', 'ecg.annotation', 'ecg.data']) t.ok(kinds.has(kind), `captured ${kind}`)
  for (const message of captured) t.ok(validate(message), `${(message as { event_type: string }).event_type} is valid: ${ajv().errorsText(validate.errors)}`)
  const data = captured.find((m) => (m as { event_type: string }).event_type === 'ecg.data') as { payload: { signal: number[] } }
  t.notOk(validate({ ...data, payload: { ...data.payload, signal: [1, 2] } }), 'a 2-sample ecg.data is refused')
  t.notOk(validate({ type: 3, event_type: 'ecg.history', timestamp: 1, id: 2, payload: { patient_id: 'p1' } }), 'a response without signal is refused')
})

test('the JSON Schema describes the tagged forms of Dates, bytes and typed arrays', async (t) => {
  const { Type } = await import('@sinclair/typebox')
  const { defineProtocol, NdArray, createJsonCodec } = await import('../lib/index.js')
  const p = defineProtocol({ events: { raw: Type.Object({ at: Type.Date(), bytes: Type.Uint8Array(), signal: NdArray('float32') }) } })
  const validate = ajv().compile(protocolJsonSchema(p))
  const body = JSON.parse(createJsonCodec().encodeText({ type: 1, event_type: 'raw', timestamp: 1, payload: { at: new Date(), bytes: new Uint8Array([1, 2]), signal: new Float32Array(3) } }))
  t.ok(validate(body), ajv().errorsText(validate.errors))
  t.notOk(validate({ ...body, payload: { ...body.payload, signal: { ...body.payload.signal, dtype: 'float64' } } }), 'the dtype is pinned')
})

test('the generated .d.ts compiles, and a wrong payload does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirebox-dts-'))
  writeFileSync(join(dir, 'protocol.d.ts'), protocolTypeScript(protocol))
  writeFileSync(join(dir, 'use.ts'), [
    "import type { Events, Requests, EcgHistoryRequest, ServerToClientEvents, ClientToServerEvents } from './protocol.js'",
    "const seen: ClientToServerEvents['anomaly.seen'] = { patient_id: 'p1', seq: 3 }",
    "const live: ServerToClientEvents['ecg.annotation'] = { patient_id: 'p1', note: 'n' }",
    '// @ts-expect-error anomaly.seen is sent by clients only',
    "const wrongWay: ServerToClientEvents['anomaly.seen'] = seen",
    "const ok: Requests['ecg.history']['payload'] = { patient_id: 'p1', samples: 10 }",
    "const data: Events['ecg.data'] = { patient_id: 'p1', seq: 1, sampling_rate: 250, signal: [] }",
    "const response: Requests['ecg.history']['response'] = { patient_id: 'p1', sampling_rate: 250, signal: [1] }",
    '// @ts-expect-error samples must be a number',
    "const wrong: EcgHistoryRequest = { patient_id: 'p1', samples: 'ten' }",
    '// @ts-expect-error sampling_rate is the literal 250',
    "const wrongRate: Requests['ecg.history']['response'] = { patient_id: 'p1', sampling_rate: 100, signal: [] }",
    'export { ok, data, response, wrong, wrongRate, live, wrongWay }'
  ].join('\n'))
  const compile = (files: string[]): readonly ts.Diagnostic[] => ts.getPreEmitDiagnostics(ts.createProgram(files, { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 }))
  const diagnostics = compile([join(dir, 'use.ts')])
  t.same(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'compiles; each @ts-expect-error meets its error')
  writeFileSync(join(dir, 'bad.ts'), "import type { EcgHistoryRequest } from './protocol.js'\nexport const bad: EcgHistoryRequest = { patient_id: 'p1', samples: 'ten' }\n")
  t.ok(compile([join(dir, 'bad.ts')]).length > 0, 'the wrong payload is a compile error')
})

test('schemas/json holds the protocol\'s own schemas, in sync with schemas/*.ts', async (t) => {
  const dir = new URL('../schemas/json/', import.meta.url)
  const expected = ownSchemaFiles()
  t.same(readdirSync(dir).sort(), Object.keys(expected).sort())
  for (const [file, text] of Object.entries(expected)) t.equal(readFileSync(new URL(file, dir), 'utf8'), text, `${file} is up to date (npm run schemas)`)
  const validate = ajv().compile(JSON.parse(expected['negotiation.schema.json'] as string))
  t.ok(validate({ encoding: 'json', version: 3, compression: 'gzip', compression_threshold: 1024, max_message_size: 1, heartbeat_interval_ms: 0, session_id: 'x', fallback: false }))
})

test('a route can serve its JSON Schema and AsyncAPI documents', async (t) => {
  const app = await buildApp({}, { schemaRoutes: true })
  t.teardown(() => app.close())
  const schema = await app.inject('/ws/schema.json')
  t.equal(schema.statusCode, 200)
  t.match(schema.headers['content-type'], /application\/schema\+json/)
  t.ok(JSON.parse(schema.body).$defs['request.math.add'])
  const asyncapi = await app.inject('/ws/asyncapi.json')
  t.equal(JSON.parse(asyncapi.body).asyncapi, '3.0.0')
  const plain = await buildApp()
  t.teardown(() => plain.close())
  t.equal((await plain.inject('/ws/schema.json')).statusCode, 404, 'off by default')
})
