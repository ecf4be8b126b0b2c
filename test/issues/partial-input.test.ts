/**
 * Issue 8, item 8: partial input had no global bound (16 sockets each holding an unfinished 60 MiB
 * WebSocket frame pinned +963 MB; 16 holding chunk 0 of 2 of a 60 MiB message, +424 MB). No
 * WebSocket frame may be larger than a chunk (a sender chunks anything larger, PROTOCOL.md 2.4), so
 * large messages arrive chunked, and incomplete chunked messages of all connections share one
 * budget (`maxPartialBytesTotal`).
 */
import { test } from 'tap'
import { buildApp, testProtocol } from '../plugin/fixture.js'
import { TestClient, MessageType, listen, shutdown } from '../plugin/test-client.js'
import { Flag, encodeFrame, splitIntoChunks } from '../../lib/index.js'
import { nodePlatform } from '../../lib/platform/node.js'

const CHUNK = 64 * 1024

/** Sends `count` of the chunks of a message of `total` bytes (chunk data of CHUNK bytes). */
function sendChunks (client: TestClient, messageId: number, total: number, count: number): void {
  const chunks = splitIntoChunks(new Uint8Array(total), messageId, CHUNK)
  for (const chunk of chunks.slice(0, count)) {
    client.ws.send(encodeFrame({ version: 3, type: MessageType.EVENT, flags: Flag.CHUNKED, payload: chunk }, nodePlatform.crc32))
  }
}

test('a WebSocket frame larger than a chunk is refused before it is buffered (1009)', async (t) => {
  const app = await buildApp({ chunkSize: CHUNK })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await client.ready()
  client.ws.send(new Uint8Array(CHUNK * 4))
  t.equal(await client.closed, 1009, 'closed as too big')
  const other = await TestClient.connect(`${base}/ws`)
  t.same((await other.request('math.add', { a: 1, b: 1 })).envelope?.payload, { sum: 2 }, 'others are served')
  other.close()
})

test('a route cannot declare chunks larger than the plugin\'s frame limit', async (t) => {
  const app = await buildApp({ chunkSize: CHUNK })
  t.teardown(async () => await shutdown(app))
  t.throws(() => app.wirebox('/big', { protocol: testProtocol, chunkSize: CHUNK * 2 }, () => {}), { code: 'WIREBOX_ERR_INVALID_OPTION' })
})

test('incomplete chunked messages of all connections share one budget (0x102, close 1013), released on close', async (t) => {
  const budget = 1024 * 1024
  const app = await buildApp({ chunkSize: CHUNK, maxPartialBytesTotal: budget, rateLimit: false })
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const holders = await Promise.all([1, 2].map(async () => await TestClient.connect(`${base}/ws?encoding=messagepack`)))
  for (const h of holders) {
    await h.ready()
    sendChunks(h, 1, CHUNK * 10, 7) // 448 KiB held each: 896 KiB of the 1 MiB budget
  }
  const ping = await holders[0]?.request('math.add', { a: 2, b: 2 })
  t.same(ping?.envelope?.payload, { sum: 4 }, 'chunks so far are accepted')
  const third = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await third.ready()
  sendChunks(third, 1, CHUNK * 10, 7)
  const refusal = await third.next((m) => m.type === MessageType.ERROR)
  t.equal((refusal.envelope?.payload as { code: number }).code, 0x102, 'over the budget: 0x102')
  t.match((refusal.envelope?.payload as { message: string }).message, /all connections/)
  t.equal(await third.closed, 1013, 'and closed with 1013 (try again later)')
  for (const h of holders) h.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  const fourth = await TestClient.connect(`${base}/ws?encoding=messagepack`)
  await fourth.ready()
  sendChunks(fourth, 1, CHUNK * 15, 14) // 896 KiB: fits once the others let go
  t.same((await fourth.request('math.add', { a: 3, b: 3 })).envelope?.payload, { sum: 6 }, 'the budget was released when the holders closed')
  t.equal(fourth.ofType(MessageType.ERROR).length, 0, 'no refusal')
  fourth.close()
})
