/**
 * lib/core/msgpack-reader.ts: what it reads from checked bytes is what msgpackr reads (with the
 * messagepack codec's options), for every kind of value; strings as TextDecoder reads UTF-8.
 */
import { test } from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { Packr, Unpackr } from 'msgpackr'
import { MessagePackReader } from '../lib/core/msgpack-reader.js'
import { MessagePackGuard } from '../lib/core/msgpack-guard.js'
import { createMessagePackCodec } from '../lib/index.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true, bundleStrings: false, encodeUndefinedAsNil: true, int64AsType: 'auto' } as never)
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' } as never)
const unpackrBig = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' } as never)
const reader = new MessagePackReader(false)
const readerBig = new MessagePackReader(true)
const guard = new MessagePackGuard(64, false)

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ maxLength: 300 }),
    fc.integer(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.maxSafeInteger(), fc.double(), fc.boolean(), fc.constant(null),
    fc.uint8Array({ maxLength: 300 }), fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(2 ** 40) }),
    tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 20 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('event_type', 'timestamp', 'payload', 'constructor')).filter((k) => k !== '__proto__'), tie('tree'), { maxKeys: 20 })
}))

/** Bin comes back as a view of the input in both; compare contents, not buffers. */
function same (a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.stringify(a, bytesAsArrays), JSON.stringify(b, bytesAsArrays)) && isDeepStrictEqual(shape(a), shape(b))
}
function bytesAsArrays (_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? ['bytes', ...value] : typeof value === 'number' && !Number.isFinite(value) ? String(value) : Object.is(value, -0) ? '-0' : value
}
function shape (value: unknown): unknown {
  if (value instanceof Date) return ['date', value.getTime()]
  if (value instanceof Uint8Array) return 'bytes'
  if (Array.isArray(value)) return value.map(shape)
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, shape(v)])
  return typeof value
}

test('values: what msgpackr reads, for every kind of value', async (t) => {
  fc.assert(fc.property(tree, (value) => {
    const bytes = Buffer.from(packr.pack(value))
    guard.check(bytes)
    return same(reader.read(bytes), unpackr.unpack(bytes))
  }), { numRuns: 3000 })
  t.pass('3000 values')
})

test('integers of every width, floats, timestamps and bigints', async (t) => {
  const values = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1, 0.5, -0, 1e300, NaN, Infinity]
  for (const value of values) {
    const bytes = packr.pack(value)
    t.ok(Object.is(reader.read(bytes), unpackr.unpack(bytes)), `${value} (0x${bytes[0]?.toString(16) ?? ''})`)
  }
  // float 32, and timestamps of 4, 8 and 12 bytes, written by hand.
  const float32 = Buffer.from([0xca, 0x3f, 0xc0, 0x00, 0x00])
  t.equal(reader.read(float32), unpackr.unpack(float32), 'float 32')
  for (const date of [new Date(1_700_000_000_000), new Date(1_700_000_000_123), new Date(2 ** 41), new Date(-5000)]) {
    const bytes = packr.pack(date)
    t.equal((reader.read(bytes) as Date).getTime(), (unpackr.unpack(bytes) as Date).getTime(), `timestamp of ${bytes.length - 2} bytes`)
  }
  for (const big of [2n ** 60n, -(2n ** 60n), 2n ** 64n - 1n]) {
    const bytes = packr.pack(big)
    t.equal(readerBig.read(bytes), unpackrBig.unpack(bytes), `BigInt ${big}`)
  }
  t.equal(readerBig.read(packr.pack(2 ** 40)), 2 ** 40, 'a safe integer stays a number')
  for (const hex of ['cf0020000000000000', 'cf0020000000000001', 'cf001fffffffffffff', 'd3ffe0000000000000', 'd3ffe0000000000001', 'd3ffdfffffffffffff', 'd30020000000000001', 'cfffffffffffffffff']) {
    const bytes = Buffer.from(hex, 'hex')
    t.equal(readerBig.read(bytes), unpackrBig.unpack(bytes), `${hex}: a number up to ±2^53, a BigInt beyond, as msgpackr`)
  }
  // A 12-byte timestamp whose int 64 seconds are beyond a Date's range.
  t.ok(Number.isNaN((reader.read(Buffer.from('c70cffc8f9a5611e7d01fff80786fd', 'hex')) as Date).getTime()), 'Invalid Date')
})

test('strings: UTF-8 as TextDecoder reads it, a leading U+FEFF kept', async (t) => {
  const bom = '\uFEFF' + 'x'.repeat(100)
  t.equal(reader.read(packr.pack(bom)), bom, 'U+FEFF kept (msgpackr drops it from long strings)')
  t.equal(reader.read(Buffer.from([0xa3, 0x61, 0xff, 0x62])), 'a\uFFFDb', 'an invalid byte is U+FFFD')
  // Keys come from a cache: the same bytes give the same key, other bytes another key.
  const a = reader.read(packr.pack({ alpha: 1, beta: 2 }))
  const b = reader.read(packr.pack({ alpha: 3, betb: 4 }))
  t.same([a, b], [{ alpha: 1, beta: 2 }, { alpha: 3, betb: 4 }])
  const codec = createMessagePackCodec()
  t.same(codec.decode(codec.encode({ 1: 'one', [-5]: 'minus five' })), { 1: 'one', '-5': 'minus five' }, 'integer keys as msgpackr reads them')
  t.same(codec.decode(Buffer.from([0x81, 0x01, 0xa1, 0x78])), unpackr.unpack(Buffer.from([0x81, 0x01, 0xa1, 0x78])), 'an integer key')
})

test('any bytes the guard accepts are read without throwing', async (t) => {
  let accepted = 0
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
    try {
      guard.check(bytes)
    } catch {
      return true
    }
    accepted++
    reader.read(bytes)
    return true
  }), { numRuns: 20000 })
  t.ok(accepted > 100, `${accepted} random inputs passed the guard and were read`)
})
