import { test } from 'tap'
import zlib from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { MessageDecoder, MessageEncoder, MessageType, Flag } from '../lib/index.js'
import type { WireSettings, DecodedMessage, WireFrame } from '../lib/index.js'
import { nodePlatform } from '../lib/platform/node.js'
import { webPlatform } from '../lib/platform/web.js'
import { rawFrame, rejectsWith } from './helpers.js'

const platform = nodePlatform
const small = { event_type: 'ecg.data', timestamp: 1_700_000_000_000, payload: { patient_id: 'p1', seq: 1, signal: [0.1, 0.2] } }
const rows = { event_type: 'table.rows', timestamp: 1_700_000_000_000, payload: { rows: Array.from({ length: 200 }, (_, i) => ({ i, name: `row ${i}`, ok: i % 2 === 0 })) } }

async function roundTrip (settings: WireSettings, envelope: object, flags = 0): Promise<{ frames: WireFrame[], decoded: DecodedMessage | undefined }> {
  const encoder = new MessageEncoder(settings, { platform })
  const decoder = new MessageDecoder(settings, { platform })
  const frames = await encoder.encode({ type: MessageType.EVENT, flags, envelope: envelope as typeof small })
  let decoded: DecodedMessage | undefined
  for (const frame of frames) decoded = await decoder.decode(frame)
  return { frames, decoded }
}

for (const encoding of ['messagepack', 'json'] as const) {
  for (const version of [1, 2, 3] as const) {
    for (const compression of ['gzip', 'deflate', 'none'] as const) {
      test(`${encoding} v${version} ${compression}: small and large messages round-trip`, async (t) => {
        const settings = { encoding, version, compression }
        const flags = version === 3 ? Flag.PRIORITY | Flag.ACK_REQUIRED : Flag.PRIORITY
        const a = await roundTrip(settings, small, flags)
        t.same(a.decoded?.envelope, small)
        t.equal(a.decoded?.flags, flags, 'flags survive')
        t.equal(a.frames.length, 1)
        t.equal(typeof a.frames[0], encoding === 'json' ? 'string' : 'object', 'JSON uncompressed is a text frame')
        const b = await roundTrip(settings, rows)
        t.same(b.decoded?.envelope, rows)
        const compressed = version > 1 && compression !== 'none'
        t.equal(((b.decoded?.flags ?? 0) & Flag.COMPRESSED) !== 0, compressed, compressed ? 'compressed above the threshold' : 'not compressed')
        if (compressed) t.type(b.frames[0], Uint8Array, 'a compressed JSON message is a binary frame')
        if (version === 3 && typeof b.frames[0] !== 'string') t.ok((b.decoded?.timestamp ?? 0) > 1_700_000_000_000_000, 'v3 header timestamp in µs')
        else t.equal(b.decoded?.timestamp, undefined, 'no header timestamp (v1, v2, text frames)')
      })
    }
  }
}

test('compresses only above the threshold and only when it helps', async (t) => {
  const settings: WireSettings = { encoding: 'messagepack', version: 3, compression: 'gzip', compressionThreshold: 100 }
  const random = { event_type: 'x', timestamp: 1, payload: { noise: randomBytes(2000) } }
  const r = await roundTrip(settings, random)
  t.equal((r.decoded?.flags ?? 0) & Flag.COMPRESSED, 0, 'incompressible data is sent as is')
  t.same(Buffer.from((r.decoded?.envelope?.payload as { noise: Uint8Array }).noise), random.payload.noise)
  const s = await roundTrip({ ...settings, compressionThreshold: 100_000 }, rows)
  t.equal((s.decoded?.flags ?? 0) & Flag.COMPRESSED, 0, 'below the threshold')
})

test('a large message is compressed, chunked and reassembled', async (t) => {
  const signal = Float32Array.from({ length: 400_000 }, () => Math.random())
  const big = { event_type: 'ecg.history', timestamp: 1, payload: { signal } }
  for (const encoding of ['messagepack', 'json'] as const) {
    const r = await roundTrip({ encoding, version: 3, compression: 'gzip' }, big, Flag.PRIORITY)
    t.ok(r.frames.length > 4, `${encoding}: ${r.frames.length} chunks`)
    for (const frame of r.frames) {
      t.type(frame, Uint8Array)
      t.ok((frame as Uint8Array).length <= 19 + 8 + 256 * 1024, 'each chunk within the chunk size')
      t.equal((frame as Uint8Array)[2], Flag.PRIORITY | Flag.CHUNKED | Flag.COMPRESSED, 'the same flags on every chunk')
    }
    t.same((r.decoded?.envelope?.payload as { signal: Float32Array }).signal, signal)
  }
})

test('the web platform and the node platform interoperate', async (t) => {
  const settings: WireSettings = { encoding: 'messagepack', version: 3, compression: 'deflate' }
  const frames = await new MessageEncoder(settings, { platform: webPlatform }).encode({ type: MessageType.EVENT, envelope: rows })
  t.same((await new MessageDecoder(settings, { platform: nodePlatform }).decode(frames[0] as Uint8Array))?.envelope, rows)
  const back = await new MessageEncoder(settings, { platform: nodePlatform }).encode({ type: MessageType.EVENT, envelope: rows })
  t.same((await new MessageDecoder(settings, { platform: webPlatform }).decode(back[0] as Uint8Array))?.envelope, rows)
})

test('decoder rejections', async (t) => {
  const mp = (s: Partial<WireSettings> = {}): MessageDecoder => new MessageDecoder({ encoding: 'messagepack', version: 3, compression: 'none', ...s }, { platform })
  const body = Buffer.from('81a16101', 'hex')
  const gz = zlib.gzipSync(Buffer.from('83aa6576656e745f74797065a178a974696d657374616d7001a77061796c6f6164c0', 'hex'))
  await rejectsWith(t, () => mp().decode(rawFrame({ version: 3, type: 1, flags: Flag.COMPRESSED, payload: gz })), 'WIREBOX_ERR_COMPRESSION_NOT_NEGOTIATED', 0x103)
  await rejectsWith(t, () => mp().decode(rawFrame({ version: 2, type: 1, payload: body })), 'WIREBOX_ERR_UNSUPPORTED_VERSION', 0x100)
  await rejectsWith(t, () => mp().decode('{"type":1}'), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  const missing = await rejectsWith(t, () => mp().decode(rawFrame({ version: 3, type: 1, payload: body })), 'WIREBOX_ERR_MISSING_FIELDS', 0x201)
  t.same((missing as { details?: unknown }).details, { path: '/event_type' })
  const wrong = Buffer.from('82aa6576656e745f7479706501a974696d657374616d7001', 'hex') // event_type: 1
  const invalid = await rejectsWith(t, () => mp().decode(rawFrame({ version: 3, type: 1, payload: wrong })), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  t.same((invalid as { details?: unknown }).details, { path: '/event_type' })
  await rejectsWith(t, () => mp().decode(rawFrame({ version: 3, type: 1, payload: Buffer.from('92', 'hex') })), 'WIREBOX_ERR_DECODE_FAILED', 0x200)
  await rejectsWith(t, () => mp().decode(rawFrame({ version: 3, type: 1, payload: Buffer.from('01', 'hex') })), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  // a gzip bomb inside a frame, limit 1 MiB
  const bomb = zlib.gzipSync(Buffer.alloc(50e6), { level: 9 })
  await rejectsWith(t, () => mp({ compression: 'gzip', maxMessageSize: 1 << 20 }).decode(rawFrame({ version: 3, type: 1, flags: Flag.COMPRESSED, payload: bomb })), 'WIREBOX_ERR_DECOMPRESSED_TOO_LARGE', 0x102)

  const js = new MessageDecoder({ encoding: 'json', version: 3, compression: 'gzip' }, { platform })
  await rejectsWith(t, () => js.decode('{"event_type":"x","timestamp":1}'), 'WIREBOX_ERR_MISSING_FIELDS', 0x201)
  await rejectsWith(t, () => js.decode('{"type":66,"event_type":"x","timestamp":1}'), 'WIREBOX_ERR_UNKNOWN_MESSAGE_TYPE', 0x104)
  await rejectsWith(t, () => js.decode('{"type":1,"flags":1,"event_type":"x","timestamp":1}'), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  await rejectsWith(t, () => js.decode('{"type":1,"flags":64,"event_type":"x","timestamp":1}'), 'WIREBOX_ERR_INVALID_FLAGS', 0x200)
  await rejectsWith(t, () => js.decode('[1]'), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  const jsonBody = Buffer.from('{"type":2,"event_type":"x","timestamp":1}')
  await rejectsWith(t, () => js.decode(rawFrame({ version: 3, type: 1, payload: jsonBody })), 'WIREBOX_ERR_INVALID_ENVELOPE', 0x200)
  const tiny = new MessageDecoder({ encoding: 'json', version: 3, compression: 'gzip', maxMessageSize: 10 }, { platform })
  await rejectsWith(t, () => tiny.decode('{"type":1,"event_type":"x","timestamp":1}'), 'WIREBOX_ERR_FRAME_TOO_LARGE', 0x102)
})

test('empty PING/PONG/HEARTBEAT frames decode without an envelope', async (t) => {
  const decoder = new MessageDecoder({ encoding: 'messagepack', version: 2, compression: 'gzip' }, { platform })
  const decoded = await decoder.decode(rawFrame({ version: 2, type: MessageType.PING }))
  t.equal(decoded?.type, MessageType.PING)
  t.equal(decoded?.envelope, undefined)
})

test('encoder refusals', async (t) => {
  const encoder = new MessageEncoder({ encoding: 'messagepack', version: 3, compression: 'gzip', maxMessageSize: 100 }, { platform })
  await rejectsWith(t, () => encoder.encode({ type: 1, flags: Flag.COMPRESSED, envelope: small }), 'WIREBOX_ERR_INVALID_OPTION')
  await rejectsWith(t, () => encoder.encode({ type: 1, envelope: rows }), 'WIREBOX_ERR_FRAME_TOO_LARGE', 0x102)
  const v1 = new MessageEncoder({ encoding: 'messagepack', version: 1, compression: 'gzip' }, { platform })
  t.equal(v1.settings.compression, 'none', 'version 1 never compresses')
  await rejectsWith(t, () => v1.encode({ type: 1, flags: Flag.ACK_REQUIRED, envelope: small }), 'WIREBOX_ERR_INVALID_FLAGS')
  await rejectsWith(t, () => encoder.encode({ type: 1, flags: Flag.ENCRYPTED, envelope: small }), 'WIREBOX_ERR_INVALID_FLAGS')
})

test('chunk timeouts are reported by sweep and the decoder forgets partial state on close', async (t) => {
  const settings: WireSettings = { encoding: 'messagepack', version: 3, compression: 'none', chunkSize: 16 }
  const frames = await new MessageEncoder(settings, { platform }).encode({ type: 1, envelope: small })
  const decoder = new MessageDecoder(settings, { platform, chunkTimeoutMs: 1 })
  t.equal(await decoder.decode(frames[0] as Uint8Array), undefined)
  t.equal(decoder.pendingChunkedMessages, 1)
  const expired = decoder.sweep(Date.now() + 10)
  t.equal(expired[0]?.code, 'WIREBOX_ERR_CHUNK_TIMEOUT')
  t.equal(decoder.pendingChunkedMessages, 0)
  await decoder.decode(frames[0] as Uint8Array)
  t.equal(decoder.pendingChunkedMessages, 1)
  decoder.close()
  t.equal(decoder.pendingChunkedMessages, 0)
})

test('decoders of the same frozen settings and options share their setup but not their partial messages', async (t) => {
  const settings: WireSettings = Object.freeze({ encoding: 'messagepack', version: 3, compression: 'none', chunkSize: 16 })
  const options = Object.freeze({ platform, chunkTimeoutMs: 60_000 })
  const frames = await new MessageEncoder(settings, { platform }).encode({ type: 1, envelope: small })
  const a = new MessageDecoder(settings, options)
  const b = new MessageDecoder(settings, options)
  t.equal(a.settings, b.settings, 'one resolved settings object for both')
  t.ok(Object.isFrozen(a.settings))
  t.equal(await a.decode(frames[0] as Uint8Array), undefined)
  t.equal(a.pendingChunkedMessages, 1)
  t.equal(b.pendingChunkedMessages, 0, 'the other decoder holds no part of it')
  let decoded: DecodedMessage | undefined
  for (const frame of frames) decoded = await b.decode(frame)
  t.same(decoded?.envelope, small, 'the other decoder reassembles its own copy')
  t.equal(a.pendingChunkedMessages, 1, 'and leaves the first one\'s partial message alone')
  b.close()
  t.equal(a.pendingChunkedMessages, 1, 'closing one decoder forgets only its own partial messages')
  for (const frame of frames.slice(1)) decoded = await a.decode(frame)
  t.same(decoded?.envelope, small)
})

test('bad settings and options fail at construction with one error naming every bad field', async (t) => {
  const err = await rejectsWith(t, () => new MessageEncoder({ encoding: 'xml', version: 4, compression: 'zip', chunkSize: 0, compressionLevel: 12 } as unknown as WireSettings, { platform }), 'WIREBOX_ERR_INVALID_OPTION')
  t.ok(err instanceof TypeError)
  for (const field of ['/encoding', '/version', '/compression', '/chunkSize', '/compressionLevel']) t.match((err as Error).message, field)
  const codec = await rejectsWith(t, () => new MessageDecoder({ encoding: 'json', version: 3, compression: 'none' }, { platform, codec: { maxDepth: 0, bigint: 'yes' as unknown as boolean } }), 'WIREBOX_ERR_INVALID_OPTION')
  t.match((codec as Error).message, /\/maxDepth.*\/bigint/)
  await rejectsWith(t, () => new MessageDecoder({ encoding: 'json', version: 3, compression: 'none' }, { platform, maxPartialMessages: -1 }), 'WIREBOX_ERR_INVALID_OPTION')
  await rejectsWith(t, () => new MessageEncoder({ encoding: 'json', version: 3, compression: 'none', extra: 1 } as WireSettings, { platform }), 'WIREBOX_ERR_INVALID_OPTION')
})

test('encodeMessage reports the UTF-8 size of a text frame without encoding it twice', async (t) => {
  const encoder = new MessageEncoder({ encoding: 'json', version: 3, compression: 'gzip' }, { platform })
  const envelope = { event_type: 'note', timestamp: 1, payload: { text: 'ünïcødé ✓ 😀 and ascii' } }
  const encoded = await encoder.encodeMessage({ type: MessageType.EVENT, envelope })
  t.equal(typeof encoded.frames[0], 'string')
  t.equal(encoded.wireSize, Buffer.byteLength(encoded.frames[0] as string))
  t.equal(encoded.bodySize, encoded.wireSize)
})
test('decoders given one frozen settings and options object share its resolved form; unfrozen ones are resolved for each', async (t) => {
  const frozen = Object.freeze({ encoding: 'messagepack' as const, version: 3 as const, compression: 'none' as const })
  const options = Object.freeze({ platform: nodePlatform })
  t.equal(new MessageDecoder(frozen, options).settings, new MessageDecoder(frozen, options).settings)
  t.not(new MessageDecoder(frozen, { platform: nodePlatform }).settings, new MessageDecoder(frozen, { platform: nodePlatform }).settings, 'options not frozen: not shared')
  const plain = { encoding: 'messagepack' as const, version: 3 as const, compression: 'none' as const }
  const [x, y] = [new MessageDecoder(plain, { platform: nodePlatform }), new MessageDecoder(plain, { platform: nodePlatform })]
  t.not(x.settings, y.settings)
  t.same(x.settings, y.settings)
})
