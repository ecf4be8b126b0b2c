/**
 * lib/core/compact/writer.ts: every value it writes is byte for byte what the messagepack codec
 * (msgpackr) writes for it (PROTOCOL.md 9.3: "as the messagepack encoding writes it"), and the
 * bytes it hands out are never written again.
 */
import { test } from 'tap'
import fc from 'fast-check'
import { createMessagePackCodec } from '../lib/index.js'
import { CompactWriter } from '../lib/core/compact/writer.js'

const plain = createMessagePackCodec({ bigint: true })
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function written (write: (w: CompactWriter) => void, room = 0): Uint8Array {
  const w = new CompactWriter()
  w.begin(room, plain.pack)
  write(w)
  return w.finish().subarray(room)
}

const strings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  // Lone and paired surrogates around the short/long boundary (msgpackr writes short ones by hand).
  fc.string({ unit: fc.oneof(fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)), fc.constant('a')), maxLength: 100 })
)
const numbers = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1)
)

test('scalars: the bytes msgpackr writes', async (t) => {
  fc.assert(fc.property(fc.oneof(strings, numbers, fc.boolean(), fc.constant(null)), (value) => {
    return hex(written((w) => w.value(value))) === hex(plain.pack(value))
  }), { numRuns: 3000 })
  t.equal(hex(written((w) => w.value(undefined))), 'c0', 'undefined is nil')
  t.pass('3000 scalars')
})

test('other values go through the messagepack codec unchanged', async (t) => {
  const values = [{ a: 1, b: [true, 'x'], c: undefined }, [1, 2, 3], new Date(1_700_000_000_000), new Uint8Array([1, 2]), 2n ** 60n, { nested: { deep: [{}] } }]
  for (const value of values) t.equal(hex(written((w) => w.value(value))), hex(plain.pack(value)), String(value))
})

// JSON-like values with undefined properties and array items, nested, with every scalar above.
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, strings, numbers, fc.boolean(), fc.constant(null), fc.constant(undefined), tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 20 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__x', 'constructor', 'toJSON')), tie('tree'), { maxKeys: 20 })
}))

/** The bytes, or the error's code when it throws. */
function outcome (encode: () => Uint8Array): string {
  try {
    return hex(encode())
  } catch (err) {
    return `throws ${(err as { code?: string }).code ?? String(err)}`
  }
}

test('plain objects and arrays, nested: the bytes msgpackr writes', async (t) => {
  fc.assert(fc.property(tree, (value) => outcome(() => written((w) => w.value(value))) === outcome(() => plain.pack(value))), { numRuns: 2000 })
  // The messagepack codec writes with the writer; msgpackr with its extensions off writes the same.
  fc.assert(fc.property(tree, (value) => outcome(() => plain.encode(value)) === outcome(() => plain.pack(value))), { numRuns: 1000 })
  const deep: unknown[] = []
  let at = deep
  for (let i = 0; i < 100; i++) at.push(at = [])
  t.equal(hex(plain.encode(deep)), hex(plain.pack(deep)), 'nesting deeper than the writer goes is left to msgpackr')
  const byClass = new (class Point { x = 1 })()
  t.equal(hex(plain.encode({ p: byClass, d: new Date(0), b: new Uint8Array([1]) })), hex(plain.pack({ p: byClass, d: new Date(0), b: new Uint8Array([1]) })), 'class instances, Dates, bytes')
  t.pass('3000 trees')
})

test('an envelope: timestamp and seq beyond 32 bits as int 64, as msgpackr writes a BigInt', async (t) => {
  const envelope = { event_type: 'e', timestamp: 1_732_182_012_345, payload: { a: [1, 2.5], b: undefined }, topic: 't', seq: 2 ** 33 + 1, id: 7 }
  const asBigInt = { ...envelope, timestamp: BigInt(envelope.timestamp), seq: BigInt(envelope.seq) }
  t.equal(hex(plain.encodeEnvelope(envelope, 0)), hex(plain.pack(asBigInt)))
  t.equal(hex(plain.encodeEnvelope({ ...envelope, timestamp: 5, seq: 3 }, 0)), hex(plain.pack({ ...envelope, timestamp: 5, seq: 3 })), 'small ones as they are')
  t.equal(hex(plain.encodeEnvelope(envelope, 19).subarray(19)), hex(plain.pack(asBigInt)), 'behind room')
  let reads = 0
  const shifty = { event_type: 'e', timestamp: 1, get payload () { return ++reads === 1 ? 1 : undefined } }
  t.throws(() => plain.encodeEnvelope(shifty as never, 0), { code: 'WIREBOX_ERR_ENCODE_FAILED' }, 'a getter that changes its answer is refused, not written as a lying map')
  t.throws(() => plain.encode({ a: [Symbol('s')] }), { code: 'WIREBOX_ERR_ENCODE_FAILED' }, 'msgpackr errors still catalog errors')
})

test('an encode started while another is being written (a getter that sends) leaves both intact', async (t) => {
  let inner: Uint8Array | undefined
  const outer = { a: 1, get b () { inner = plain.encode({ nested: 'message', n: [1, 2, 3] }, 4); return 'x' } }
  const bytes = plain.encode(outer)
  t.equal(hex(bytes), hex(plain.pack({ a: 1, b: 'x' })), 'the outer body')
  t.equal(hex((inner as Uint8Array).subarray(4)), hex(plain.pack({ nested: 'message', n: [1, 2, 3] })), 'the inner body')
  t.equal(hex(plain.encode({ after: true })), hex(plain.pack({ after: true })), 'the shared writer goes on')
})

test('int64, bin and array headers as msgpackr writes a BigInt, bytes and arrays', async (t) => {
  for (const n of [2 ** 32, -(2 ** 31) - 1, 2 ** 52 - 1, -(2 ** 52) + 1, 123456789012]) {
    t.equal(hex(written((w) => w.int64(n))), hex(plain.pack(BigInt(n))), `int64 ${n}`)
  }
  for (const size of [0, 255, 256, 65535, 65536]) {
    const bytes = new Uint8Array(size).fill(7)
    t.equal(hex(written((w) => w.bin(bytes))), hex(plain.pack(bytes)), `bin of ${size}`)
    const items = new Array<number>(size).fill(1)
    t.equal(hex(written((w) => { w.array(size); for (let i = 0; i < size; i++) w.number(1) })), hex(plain.pack(items)), `array of ${size}`)
  }
})

test('bodies stay intact: later bodies, growth and aborted bodies never write over them', async (t) => {
  const w = new CompactWriter()
  const kept: Array<{ bytes: Uint8Array, copy: string }> = []
  for (let i = 0; i < 200; i++) {
    w.begin(3, plain.pack)
    // Every 17th body is large enough to move to a new buffer mid-write.
    const text = i % 17 === 0 ? 'x'.repeat(20_000 + i) : `body ${i}`
    w.string(text)
    const bytes = w.finish()
    t.equal(bytes.length, 3 + plain.pack(text).length, `body ${i} has its room`)
    kept.push({ bytes, copy: hex(bytes.subarray(3)) })
    w.begin(0, plain.pack)
    w.string('aborted')
    w.abort()
  }
  t.ok(kept.every((k) => hex(k.bytes.subarray(3)) === k.copy), 'every body is as it was written')
})
