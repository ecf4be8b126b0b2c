import { test } from 'tap'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, shutdown, listen } from './test-client.js'

test('negotiates every encoding, version and compression (injectWS)', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  for (const encoding of ['messagepack', 'json'] as const) {
    for (const version of [1, 2, 3] as const) {
      for (const compression of ['gzip', 'deflate', 'none'] as const) {
        const client = await TestClient.inject(app, `/ws?encoding=${encoding}&version=${version}&compression=${compression}`)
        const n = await client.ready()
        t.equal(n.encoding, encoding)
        t.equal(n.version, version)
        t.equal(n.compression, version === 1 ? 'none' : compression, 'version 1 has no compression')
        t.equal(n.fallback, false)
        t.equal(n.compression_threshold, 1024)
        t.equal(n.max_message_size, 64 * 1024 * 1024)
        t.equal(n.heartbeat_interval_ms, 30000)
        t.match(n.session_id, /^[0-9a-f-]{36}$/)
        t.equal(client.received[0]?.type, MessageType.PROTOCOL_NEGOTIATION, 'the first message')
        const response = await client.request('math.add', { a: 2, b: 40 })
        t.same(response.envelope?.payload, { sum: 42 }, `${encoding} v${version} ${compression}: request answered`)
        client.close()
      }
    }
  }
})

test('defaults, aliases and fallbacks', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const plain = await TestClient.inject(app, '/ws')
  t.match(await plain.ready(), { encoding: 'json', version: 3, compression: 'gzip', fallback: false })
  const alias = await TestClient.inject(app, '/ws?encoding=msgpack')
  t.match(await alias.ready(), { encoding: 'messagepack', fallback: false })
  const unsupported = await TestClient.inject(app, '/ws?encoding=cbor')
  t.match(await unsupported.ready(), { encoding: 'json', fallback: true, requested_encoding: 'cbor' })
  const higher = await TestClient.inject(app, '/ws?encoding=messagepack&version=9')
  t.equal((await higher.ready()).version, 3, 'a higher version gets the server\'s highest')
  const unknownCompression = await TestClient.inject(app, '/ws?compression=brotli')
  t.equal((await unknownCompression.ready()).compression, 'gzip', 'an unknown compression gets the default')
  t.same((await unsupported.request('math.add', { a: 1, b: 1 })).envelope?.payload, { sum: 2 }, 'the fallback connection works')
  for (const c of [plain, alias, unsupported, higher, unknownCompression]) c.close()
})

test('a version below the minimum, or not a positive integer, is refused with 0x100 and a close', async (t) => {
  const app = await buildApp({ minVersion: 2 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  for (const version of ['1', '0', 'abc', '-3', '2.5']) {
    const client = await TestClient.connect(`${base}/ws?encoding=json&version=${version}`)
    const error = await client.next((m) => m.type === MessageType.ERROR)
    t.equal((error.envelope?.payload as { code: number }).code, 0x100, `version=${version}`)
    t.equal(await client.closed, 1002)
    t.equal(client.ofType(MessageType.PROTOCOL_NEGOTIATION).length, 0, 'no negotiation')
  }
})

test('Sec-WebSocket-Protocol negotiates too; the query string wins', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const viaHeader = await TestClient.connect(`${base}/ws`, ['wirebox.v2.messagepack.deflate'])
  t.equal(viaHeader.ws.protocol, 'wirebox.v2.messagepack.deflate', 'the server selects the offered value')
  t.match(await viaHeader.ready(), { encoding: 'messagepack', version: 2, compression: 'deflate' })
  const both = await TestClient.connect(`${base}/ws?encoding=json&compression=none`, ['other', 'wirebox.v1.messagepack'])
  t.equal(both.ws.protocol, 'wirebox.v1.messagepack')
  t.match(await both.ready(), { encoding: 'json', version: 1, compression: 'none' })
  viaHeader.close()
  both.close()
})

test('VERSION_CHECK from the client is accepted', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const client = await TestClient.inject(app, '/ws?encoding=messagepack')
  await client.send(MessageType.VERSION_CHECK, { event_type: 'version_check', payload: { version: 3, encoding: 'messagepack' } })
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 })
  t.equal(client.ofType(MessageType.ERROR).length, 0)
  client.close()
})
