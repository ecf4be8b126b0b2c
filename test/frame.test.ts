import { test } from 'tap'
import { decodeFrame, encodeFrame, headerSize, readHeader, Flag, MessageType } from '../lib/index.js'
import { crc32 } from '../lib/platform/node.js'
import { rawFrame, rejectsWith } from './helpers.js'

const limits = { maxMessageSize: 1024 }
const body = new Uint8Array([0x80]) // an empty MessagePack map

test('encodes the header byte for byte for each version', async (t) => {
  for (const version of [1, 2, 3] as const) {
    const flags = version === 1 ? Flag.PRIORITY : Flag.PRIORITY | Flag.COMPRESSED
    const frame = encodeFrame({ version, type: MessageType.REQUEST, flags, payload: body, timestamp: 1_700_000_000_000_123 }, crc32)
    const expected = rawFrame({ version, type: 0x02, flags, payload: body, timestamp: 1_700_000_000_000_123n })
    t.same(Buffer.from(frame), expected, `version ${version}`)
    t.equal(frame.length, headerSize(version) + 1)
  }
})

test('decodes each version, with the v3 timestamp in microseconds and a payload view', async (t) => {
  for (const version of [1, 2, 3]) {
    const bytes = rawFrame({ version, type: 0x01, flags: Flag.BROADCAST, payload: body, timestamp: 1_700_000_000_000_123n })
    const frame = decodeFrame(bytes, limits, crc32)
    t.equal(frame.version, version)
    t.equal(frame.type, 0x01)
    t.equal(frame.flags, Flag.BROADCAST)
    t.equal(frame.timestamp, version === 3 ? 1_700_000_000_000_123 : undefined)
    t.same([...frame.payload], [0x80])
    t.equal(frame.payload.buffer, bytes.buffer, 'the payload is not copied')
  }
})

test('zero-length payloads: valid for PING, PONG, HEARTBEAT only', async (t) => {
  for (const type of [0x10, 0x11, 0x12]) t.equal(decodeFrame(rawFrame({ version: 3, type }), limits, crc32).payload.length, 0)
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 3, type: 0x01 }), limits, crc32), 'WIREBOX_ERR_EMPTY_PAYLOAD', 0x200)
})

test('rejects an empty frame and one shorter than its header (0x200)', async (t) => {
  await rejectsWith(t, () => decodeFrame(new Uint8Array(0), limits, crc32), 'WIREBOX_ERR_FRAME_TRUNCATED', 0x200)
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 1, type: 1 }).subarray(0, 10), limits, crc32), 'WIREBOX_ERR_FRAME_TRUNCATED', 0x200)
  // a v3 frame with only the 11-byte header of v1/v2
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 3, type: 0x11, headerSize: 11 }), limits, crc32), 'WIREBOX_ERR_FRAME_TRUNCATED', 0x200)
})

test('rejects a length field that is not the bytes present (0x200)', async (t) => {
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 2, type: 1, payload: body, length: 2 }), limits, crc32), 'WIREBOX_ERR_LENGTH_MISMATCH', 0x200)
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 2, type: 1, payload: new Uint8Array([0x80, 0]), length: 1 }), limits, crc32), 'WIREBOX_ERR_LENGTH_MISMATCH', 0x200)
})

test('rejects unknown versions (0x100), also 0 and 4', async (t) => {
  for (const version of [0, 4, 0xff]) {
    await rejectsWith(t, () => decodeFrame(rawFrame({ version, type: 1, payload: body }), limits, crc32), 'WIREBOX_ERR_UNSUPPORTED_VERSION', 0x100)
  }
})

test('rejects a checksum mismatch (0x101)', async (t) => {
  const bytes = rawFrame({ version: 3, type: 1, payload: body })
  bytes.writeUInt8((bytes.at(-1) as number) ^ 1, bytes.length - 1)
  await rejectsWith(t, () => decodeFrame(bytes, limits, crc32), 'WIREBOX_ERR_CHECKSUM_MISMATCH', 0x101)
  await rejectsWith(t, () => decodeFrame(rawFrame({ version: 1, type: 1, payload: body, checksum: 0 }), limits, crc32), 'WIREBOX_ERR_CHECKSUM_MISMATCH', 0x101)
})

test('rejects a declared length over the limit before reading on (0x102)', async (t) => {
  // The frame claims 4 GiB - 1 but carries one byte: the limit is checked first.
  const err = await rejectsWith(t, () => decodeFrame(rawFrame({ version: 3, type: 1, payload: body, length: 0xffffffff }), limits, crc32), 'WIREBOX_ERR_FRAME_TOO_LARGE', 0x102)
  t.ok(err instanceof RangeError)
  t.equal((err as { closeCode?: number }).closeCode, 1009)
})

test('rejects unknown message types (0x104)', async (t) => {
  for (const type of [0x00, 0x05, 0x13, 0x23, 0xfc]) {
    await rejectsWith(t, () => decodeFrame(rawFrame({ version: 3, type, payload: body }), limits, crc32), 'WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE', 0x104)
  }
})

test('rejects reserved flag bits and flags the version does not have (0x200)', async (t) => {
  const cases: Array<[number, number]> = [
    [3, 0x40], [3, 0x80], // reserved bits 6-7
    [1, Flag.COMPRESSED], [1, Flag.ACK_REQUIRED], [2, Flag.ACK_REQUIRED], [1, Flag.ENCRYPTED], [2, Flag.ENCRYPTED],
    [3, Flag.ENCRYPTED] // v3 has it, but no encryption hook is configured
  ]
  for (const [version, flags] of cases) {
    await rejectsWith(t, () => decodeFrame(rawFrame({ version, type: 1, flags, payload: body }), limits, crc32), 'WIREBOX_ERR_INVALID_FLAGS', 0x200)
  }
  t.equal(decodeFrame(rawFrame({ version: 3, type: 1, flags: Flag.ENCRYPTED, payload: body }), { ...limits, allowEncrypted: true }, crc32).flags, Flag.ENCRYPTED)
})

test('the encoder refuses what the decoder would reject', async (t) => {
  await rejectsWith(t, () => encodeFrame({ version: 4 as 3, type: 1, payload: body }, crc32), 'WIREBOX_ERR_UNSUPPORTED_VERSION')
  await rejectsWith(t, () => encodeFrame({ version: 3, type: 0x42, payload: body }, crc32), 'WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE')
  await rejectsWith(t, () => encodeFrame({ version: 1, type: 1, flags: Flag.COMPRESSED, payload: body }, crc32), 'WIREBOX_ERR_INVALID_FLAGS')
})

test('readHeader reads every field as sent and checks none (decodeFrame checks after it)', async (t) => {
  const wrong = rawFrame({ version: 3, type: 0x99, flags: 0xff, payload: body, length: 7, checksum: 1, timestamp: 1_700_000_000_000_123n })
  t.same(readHeader(wrong), { version: 3, type: 0x99, flags: 0xff, length: 7, checksum: 1, timestamp: 1_700_000_000_000_123 })
  const v2 = rawFrame({ version: 2, type: MessageType.EVENT, flags: Flag.COMPRESSED, payload: body })
  t.same(readHeader(v2), { version: 2, type: 1, flags: 1, length: 1, checksum: crc32(body), timestamp: undefined })
  const { payload, ...fields } = decodeFrame(v2, limits, crc32)
  t.same(fields, { version: 2, type: 1, flags: 1, timestamp: undefined })
  t.same(payload, body)
})
