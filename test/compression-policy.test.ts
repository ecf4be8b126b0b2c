/**
 * Compression that pays for itself (PROTOCOL.md section 3): a kind of message whose bodies do not
 * shrink by `compressionMinSavings` is sent uncompressed for a while, then tried again; the
 * receiver reads the COMPRESSED flag either way. Small jobs compress and inflate synchronously.
 */
import { test } from 'tap'
import zlib from 'node:zlib'
import { CompressionAdvisor, Flag, MessageDecoder, MessageEncoder, MessageType, decodeFrame } from '../lib/index.js'
import type { WireSettings } from '../lib/index.js'
import { nodePlatform } from '../lib/platform/node.js'

const platform = nodePlatform
// Random base64 text (6 bits a character): gzip saves about a quarter, in MessagePack and JSON.
let seed = 1
const random = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const token = (): string => Array.from({ length: 64 }, () => ALPHABET[Math.floor(random() * 64)]).join('')
const tokens = { event_type: 'sensor.tokens', timestamp: 1_700_000_000_000, payload: { tokens: Array.from({ length: 40 }, token) } }
// Repetitive rows: gzip saves most of them.
const rows = { event_type: 'table.rows', timestamp: 1_700_000_000_000, payload: { rows: Array.from({ length: 100 }, (_, i) => ({ i, name: `row ${i % 7}`, ok: true })) } }

const compressedFlag = (frame: Uint8Array | string): boolean =>
  typeof frame !== 'string' && (decodeFrame(frame, { maxMessageSize: 1 << 20 }, platform.crc32).flags & Flag.COMPRESSED) !== 0

test('the advisor pauses a kind that does not pay for 16, 32, ... messages, up to 1024, and forgets the pause once it pays', (t) => {
  const advisor = new CompressionAdvisor(0.4)
  t.ok(advisor.worthTrying('a'), 'a new kind is tried')
  advisor.record('a', 1000, 700) // saved 30%
  const tries = (n: number): number => Array.from({ length: n }, () => advisor.worthTrying('a')).filter(Boolean).length
  t.equal(tries(16), 0, 'the next 16 are not tried')
  t.ok(advisor.worthTrying('a'), 'the 17th is')
  advisor.record('a', 1000, 700)
  t.equal(tries(32), 0, 'then a pause of 32')
  t.ok(advisor.worthTrying('a'))
  for (let i = 0; i < 10; i++) {
    advisor.record('a', 1000, 700)
    while (!advisor.worthTrying('a'));
  }
  advisor.record('a', 1000, 700)
  t.equal(tries(1024), 0, 'the pause stops growing at 1024')
  t.ok(advisor.worthTrying('a'))
  advisor.record('a', 1000, 500) // saved 50%
  t.ok(advisor.worthTrying('a'), 'a try that pays ends the pause')
  advisor.record('a', 1000, 700)
  t.equal(tries(16), 0, 'and the next pause starts at 16 again')
  t.ok(advisor.worthTrying('b'), 'kinds are learnt apart')
  const always = new CompressionAdvisor(0)
  always.record('a', 1000, 999)
  t.ok(always.worthTrying('a'), 'minSavings 0: always tried')
  t.end()
})

for (const encoding of ['messagepack', 'json'] as const) {
  test(`${encoding}: bodies that compress poorly are sent plain after one try, bodies that compress well are compressed; both decode`, async (t) => {
    const settings: WireSettings = { encoding, version: 3, compression: 'gzip' }
    const encoder = new MessageEncoder(settings, { platform })
    const decoder = new MessageDecoder(settings, { platform })
    const flags: boolean[] = []
    for (let i = 0; i < 20; i++) {
      const { frames } = await encoder.encodeMessage({ type: MessageType.EVENT, envelope: tokens })
      flags.push(compressedFlag(frames[0] as Uint8Array))
      t.same((await decoder.decode(frames[0] as Uint8Array))?.envelope, tokens)
    }
    t.same(flags.slice(0, 2), [true, false], 'tried once (smaller, so sent compressed), then sent plain')
    t.equal(flags.filter(Boolean).length, 2, 'and tried again after 16 plain ones')
    for (let i = 0; i < 3; i++) {
      const { frames } = await encoder.encodeMessage({ type: MessageType.EVENT, envelope: rows })
      t.ok(compressedFlag(frames[0] as Uint8Array), 'rows are compressed every time')
      t.same((await decoder.decode(frames[0] as Uint8Array))?.envelope, rows)
    }
  })
}

test('compressionMinSavings 0 compresses whatever gets smaller; out-of-range values are refused', async (t) => {
  const encoder = new MessageEncoder({ encoding: 'messagepack', version: 3, compression: 'gzip', compressionMinSavings: 0 }, { platform })
  for (let i = 0; i < 5; i++) {
    const { frames } = await encoder.encodeMessage({ type: MessageType.EVENT, envelope: tokens })
    t.ok(compressedFlag(frames[0] as Uint8Array))
  }
  for (const bad of [-0.1, 1.5, '0.4']) {
    t.throws(() => new MessageEncoder({ encoding: 'messagepack', version: 3, compression: 'gzip', compressionMinSavings: bad as number }, { platform }), { code: 'WIREBOX_ERR_INVALID_OPTION' }, String(bad))
  }
})

test('small messages encode and decode synchronously; a body that inflates in the pool gives a promise', async (t) => {
  const settings: WireSettings = { encoding: 'messagepack', version: 3, compression: 'gzip', compressionMinSavings: 0 }
  const encoder = new MessageEncoder(settings, { platform })
  const decoder = new MessageDecoder(settings, { platform })
  for (const envelope of [tokens, rows]) {
    const encoded = encoder.encodeNow({ type: MessageType.EVENT, envelope })
    t.notOk(encoded instanceof Promise, `${envelope.event_type}: encoded at once`)
    const decoded = decoder.decodeNow((encoded as { frames: Uint8Array[] }).frames[0] as Uint8Array)
    t.notOk(decoded instanceof Promise, `${envelope.event_type}: decoded at once`)
    t.same((decoded as { envelope: unknown }).envelope, envelope)
  }
  // 2 MiB of zeros: more than the 1 MiB an inflate may produce on the event loop.
  const big = { event_type: 'big', timestamp: 1, payload: { zeros: new Uint8Array(2 << 20) } }
  const frames = (await encoder.encodeMessage({ type: MessageType.EVENT, envelope: big })).frames
  t.equal(frames.length, 1)
  const pending = decoder.decodeNow(frames[0] as Uint8Array)
  t.ok(pending instanceof Promise, 'inflated off the event loop')
  t.same(Buffer.from(((await pending)?.envelope?.payload as { zeros: Uint8Array }).zeros), Buffer.alloc(2 << 20))
})

test('inline compression sizes zlib to the input: the output is what plain zlib makes of it, and both inflate it', (t) => {
  for (const size of [1100, 4000, 20_000, 64 * 1024]) {
    const data = Buffer.from(Array.from({ length: size }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26) * (i % 3 === 0 ? 1 : 0))).join(''))
    for (const algorithm of ['gzip', 'deflate'] as const) {
      const out = platform.compressNow?.(algorithm, data, 6) as Uint8Array
      const inflate = algorithm === 'gzip' ? zlib.gunzipSync : zlib.inflateSync
      t.same(inflate(out), data, `${algorithm} ${size} B inflates with zlib's defaults`)
      t.same(Buffer.from(platform.decompressNow?.(algorithm, out, 1 << 20) as Uint8Array), data)
      const plain = algorithm === 'gzip' ? zlib.gzipSync(data, { level: 6 }) : zlib.deflateSync(data, { level: 6 })
      t.ok(out.length <= plain.length + 8, `${algorithm} ${size} B: ${out.length} B, plain zlib ${plain.length} B`)
    }
  }
  t.equal(platform.compressNow?.('gzip', new Uint8Array(64 * 1024 + 1), 6), undefined, 'larger inputs go to the pool')
  t.end()
})
