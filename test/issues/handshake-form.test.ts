/**
 * Issue 9, item 2: the server encoded PROTOCOL_NEGOTIATION with the negotiated encoder, so with
 * a compression threshold of 0 it was compressed, and a client that guessed gzip never became
 * ready with deflate (or with JSON). The negotiation has one form (PROTOCOL.md section 1): every
 * encoding and algorithm, threshold 0, works with the typed client and with a raw peer.
 */
import { test } from 'tap'
import { buildApp } from '../plugin/fixture.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'
import { createClient } from '../../lib/client/node.js'
import { Flag } from '../../lib/index.js'
import { testProtocol } from '../plugin/fixture.js'

test('threshold 0: every encoding x compression negotiates, and the negotiation is never compressed', async (t) => {
  const app = await buildApp({ compression: { threshold: 0 } })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  for (const encoding of ['messagepack', 'json'] as const) {
    for (const compression of ['gzip', 'deflate', 'none'] as const) {
      const raw = await TestClient.connect(`${base}/ws?encoding=${encoding}&compression=${compression}`)
      const negotiation = await raw.ready()
      t.same([negotiation.encoding, negotiation.compression], [encoding, compression], `${encoding}/${compression}: negotiated`)
      const first = raw.received[0]
      t.equal(first?.type, MessageType.PROTOCOL_NEGOTIATION)
      t.equal((first?.flags ?? 0) & Flag.COMPRESSED, 0, `${encoding}/${compression}: the negotiation is not compressed`)
      const sum = await raw.request('math.add', { a: 1, b: 2 })
      t.same(sum.envelope?.payload, { sum: 3 }, `${encoding}/${compression}: a request works`)
      const range = await raw.request('data.range', { count: 300 })
      t.equal((range.envelope?.payload as { values: number[] }).values.length, 300)
      if (compression !== 'none') t.not(range.flags & Flag.COMPRESSED, 0, `${encoding}/${compression}: what follows is compressed`)
      raw.close()

      const client = createClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, encoding, compression, reconnect: false })
      const ready = await client.ready()
      t.equal(ready.compression, compression, `typed client ${encoding}/${compression}: ready`)
      t.same(await client.request('math.add', { a: 2, b: 2 }), { sum: 4 }, `typed client ${encoding}/${compression}: request`)
      client.close()
    }
  }
})
