import { test } from 'tap'
import { randomBytes } from 'node:crypto'
import { ChunkReassembler, splitIntoChunks, parseChunk, readChunkHeader, MessageType, Flag } from '../lib/index.js'
import { rejectsWith } from './helpers.js'

const EVENT = MessageType.EVENT
const F = Flag.CHUNKED

/** A chunk payload built by hand. */
function chunk (messageId: number, index: number, count: number, data: Uint8Array | number[]): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32BE(messageId, 0)
  header.writeUInt16BE(index, 4)
  header.writeUInt16BE(count, 6)
  return Buffer.concat([header, Buffer.from(data)])
}

test('splits into chunks of at most chunkSize data bytes, with the chunk header', async (t) => {
  const payload = randomBytes(1000)
  const chunks = splitIntoChunks(payload, 7, 300)
  t.equal(chunks.length, 4)
  chunks.forEach((c, i) => {
    const b = Buffer.from(c)
    t.equal(b.readUInt32BE(0), 7)
    t.equal(b.readUInt16BE(4), i)
    t.equal(b.readUInt16BE(6), 4)
    t.equal(c.length - 8, i < 3 ? 300 : 100)
  })
  t.same(Buffer.concat(chunks.map((c) => Buffer.from(c).subarray(8))), payload)
})

test('reassembles chunks arriving in any order', async (t) => {
  const payload = randomBytes(1000)
  const chunks = splitIntoChunks(payload, 9, 128)
  const order = chunks.map((_, i) => i).reverse()
  const r = new ChunkReassembler()
  let whole: Uint8Array | undefined
  for (const [n, i] of order.entries()) {
    whole = r.add(EVENT, F, chunks[i] as Uint8Array)
    if (n < order.length - 1) t.equal(whole, undefined)
  }
  t.same(Buffer.from(whole as Uint8Array), payload)
  t.equal(r.pendingMessages, 0)
  t.equal(r.pendingBytes, 0)
})

test('interleaved messages are kept apart', async (t) => {
  const r = new ChunkReassembler()
  t.equal(r.add(EVENT, F, chunk(1, 0, 2, [1])), undefined)
  t.equal(r.add(EVENT, F, chunk(2, 0, 2, [3])), undefined)
  t.same([...(r.add(EVENT, F, chunk(2, 1, 2, [4])) as Uint8Array)], [3, 4])
  t.same([...(r.add(EVENT, F, chunk(1, 1, 2, [2])) as Uint8Array)], [1, 2])
})

test('rejects index >= count, count 0 and a short chunk header (0x200)', async (t) => {
  const r = new ChunkReassembler()
  await rejectsWith(t, () => r.add(EVENT, F, chunk(1, 2, 2, [1])), 'WIREBOX_ERR_INVALID_CHUNK', 0x200)
  await rejectsWith(t, () => r.add(EVENT, F, chunk(1, 0, 0, [1])), 'WIREBOX_ERR_INVALID_CHUNK', 0x200)
  await rejectsWith(t, () => parseChunk(new Uint8Array(7)), 'WIREBOX_ERR_INVALID_CHUNK', 0x200)
})

test('rejects a duplicate index, a changed count, changed flags; the message is dropped', async (t) => {
  const r = new ChunkReassembler()
  r.add(EVENT, F, chunk(1, 0, 3, [1]))
  await rejectsWith(t, () => r.add(EVENT, F, chunk(1, 0, 3, [1])), 'WIREBOX_ERR_INVALID_CHUNK')
  t.equal(r.pendingMessages, 0, 'dropped')
  r.add(EVENT, F, chunk(2, 0, 3, [1]))
  await rejectsWith(t, () => r.add(EVENT, F, chunk(2, 1, 4, [1])), 'WIREBOX_ERR_INVALID_CHUNK')
  r.add(EVENT, F, chunk(3, 0, 3, [1]))
  await rejectsWith(t, () => r.add(EVENT, F | Flag.PRIORITY, chunk(3, 1, 3, [1])), 'WIREBOX_ERR_INVALID_CHUNK')
  r.add(EVENT, F, chunk(4, 0, 3, [1]))
  await rejectsWith(t, () => r.add(MessageType.REQUEST, F, chunk(4, 1, 3, [1])), 'WIREBOX_ERR_INVALID_CHUNK')
  t.equal(r.pendingMessages, 0)
  t.equal(r.pendingBytes, 0)
})

test('rejects a message whose chunks add up to more than the limit (0x102)', async (t) => {
  const r = new ChunkReassembler({ maxMessageSize: 100 })
  r.add(EVENT, F, chunk(1, 0, 3, randomBytes(60)))
  const err = await rejectsWith(t, () => r.add(EVENT, F, chunk(1, 1, 3, randomBytes(60))), 'WIREBOX_ERR_CHUNKED_TOO_LARGE', 0x102)
  t.ok(err instanceof RangeError)
  t.equal(r.pendingBytes, 0)
  await rejectsWith(t, () => r.add(EVENT, F, chunk(2, 0, 1, randomBytes(101))), 'WIREBOX_ERR_CHUNKED_TOO_LARGE', 0x102)
})

test('caps incomplete messages per connection, by count and by bytes', async (t) => {
  const r = new ChunkReassembler({ maxPartialMessages: 2, maxPartialBytes: 1000, maxMessageSize: 10_000 })
  r.add(EVENT, F, chunk(1, 0, 2, [1]))
  r.add(EVENT, F, chunk(2, 0, 2, [1]))
  await rejectsWith(t, () => r.add(EVENT, F, chunk(3, 0, 2, [1])), 'WIREBOX_ERR_TOO_MANY_PARTIAL_MESSAGES', 0x102)
  t.equal(r.pendingMessages, 2, 'the earlier ones are kept')
  r.clear()
  r.add(EVENT, F, chunk(1, 0, 3, randomBytes(600)))
  await rejectsWith(t, () => r.add(EVENT, F, chunk(2, 0, 3, randomBytes(600))), 'WIREBOX_ERR_PARTIAL_BYTES_EXCEEDED', 0x102)
  t.equal(r.pendingBytes, 600)
})

test('drops incomplete messages after the timeout and reports each', async (t) => {
  const r = new ChunkReassembler({ timeoutMs: 1000 })
  r.add(EVENT, F, chunk(1, 0, 2, [1]), 0)
  r.add(EVENT, F, chunk(2, 0, 2, [1]), 600)
  t.same(r.sweep(999), [])
  const dropped = r.sweep(1000)
  t.equal(dropped.length, 1)
  t.equal(dropped[0]?.code, 'WIREBOX_ERR_CHUNK_TIMEOUT')
  t.equal(r.pendingMessages, 1)
  t.same([...(r.add(EVENT, F, chunk(2, 1, 2, [2]), 1200) as Uint8Array)], [1, 2], 'the younger one completes')
  t.equal(r.add(EVENT, F, chunk(1, 1, 2, [2]), 1200), undefined, 'a late chunk of a dropped message starts anew')
  r.clear()
  t.equal(r.pendingMessages, 0)
  t.equal(r.pendingBytes, 0)
})

test('refuses to split into more than 65535 chunks', async (t) => {
  await rejectsWith(t, () => splitIntoChunks(new Uint8Array(70_000), 1, 1), 'WIREBOX_ERR_CHUNKED_TOO_LARGE')
})

test('readChunkHeader reads the fields as sent; parseChunk reads with it and checks', async (t) => {
  const bad = chunk(9, 3, 0, [1, 2])
  t.same(readChunkHeader(bad), { messageId: 9, index: 3, count: 0, data: new Uint8Array([1, 2]) })
  await rejectsWith(t, () => parseChunk(bad), 'WIREBOX_ERR_INVALID_CHUNK')
  const good = chunk(0xffffffff, 1, 2, [3])
  t.same(parseChunk(good), readChunkHeader(good))
})
