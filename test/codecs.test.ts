import { test } from 'tap'
import { encode as independentEncode } from '@msgpack/msgpack'
import { createMessagePackCodec, createJsonCodec } from '../lib/index.js'
import type { Codec } from '../lib/index.js'
import { rejectsWith } from './helpers.js'

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const codecs: Array<[string, () => Codec]> = [['messagepack', () => createMessagePackCodec()], ['json', () => createJsonCodec()]]

const custom = {
  at: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
  raw: new Uint8Array([0, 1, 2, 253, 254, 255]),
  f32: new Float32Array([0.5, -1.25, 3.75]),
  f64: new Float64Array([Math.PI, -0]),
  i8: new Int8Array([-128, 127]),
  u8c: new Uint8ClampedArray([0, 255]),
  i16: new Int16Array([-32768, 32767]),
  u16: new Uint16Array([65535]),
  i32: new Int32Array([-2147483648]),
  u32: new Uint32Array([4294967295]),
  i64: new BigInt64Array([-(2n ** 63n)]),
  u64: new BigUint64Array([2n ** 64n - 1n]),
  empty: new Float32Array(0),
  nested: [{ when: new Date(0), bytes: new Uint8Array(0) }],
  plain: { s: 'ünïcødé ✓', n: -12.5, big: 2 ** 40, t: true, f: false, z: null, list: [1, 'two', [3]] }
}

for (const [name, make] of codecs) {
  test(`${name}: custom types round-trip to the same classes and values`, async (t) => {
    const codec = make()
    const out = codec.decode(codec.encode(custom)) as typeof custom
    t.ok(out.at instanceof Date)
    t.equal(out.at.getTime(), custom.at.getTime())
    t.ok(out.raw instanceof Uint8Array)
    t.same([...out.raw], [...custom.raw])
    for (const key of ['f32', 'f64', 'i8', 'u8c', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'empty'] as const) {
      t.equal(out[key].constructor, custom[key].constructor, `${key} keeps its class`)
      t.same([...out[key]], [...custom[key]], `${key} keeps its values`)
    }
    t.ok(Object.is(out.f64[1], -0), 'negative zero survives')
    t.ok(out.nested[0]?.when instanceof Date)
    t.same(out.plain, custom.plain)
  })

  test(`${name}: undefined properties are left out, undefined in arrays becomes null`, async (t) => {
    const codec = make()
    t.same(codec.decode(codec.encode({ a: 1, b: undefined, c: [undefined, 2] })), { a: 1, c: [null, 2] })
  })

  test(`${name}: nesting deeper than maxDepth is rejected, at the limit accepted`, async (t) => {
    const codec = name === 'json' ? createJsonCodec({ maxDepth: 5 }) : createMessagePackCodec({ maxDepth: 5 })
    const nest = (n: number): unknown => (n === 0 ? 1 : [nest(n - 1)])
    t.same(codec.decode(name === 'json' ? Buffer.from(JSON.stringify(nest(5))) : independentEncode(nest(5))), nest(5))
    const tooDeep = name === 'json' ? Buffer.from(JSON.stringify(nest(6))) : Buffer.from(independentEncode(nest(6)))
    const err = await rejectsWith(t, () => codec.decode(tooDeep), 'WIREBOX_ERR_TOO_DEEP', 0x200)
    t.ok(err instanceof RangeError)
    // 100,000 levels: no stack overflow, the same clear error
    const deep = name === 'json' ? Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)) : Buffer.alloc(100_000, 0x91)
    if (name !== 'json') deep[deep.length - 1] = 0x90
    await rejectsWith(t, () => codec.decode(deep), 'WIREBOX_ERR_TOO_DEEP', 0x200)
  })

  test(`${name}: __proto__ and constructor.prototype are rejected`, async (t) => {
    const codec = make()
    const bodies = name === 'json'
      ? ['{"__proto__":{"polluted":1}}', '{"a":[{"b":{"__proto__":1}}]}', '{"constructor":{"prototype":{"polluted":1}}}']
          .map((s) => Buffer.from(s))
      : [
          hex('81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 01'), // {"__proto__": {"polluted": 1}}
          hex('81 a1 61 91 81 a1 62 81 a9 5f5f70726f746f5f5f 01'), // {"a": [{"b": {"__proto__": 1}}]}
          hex('81 ab 636f6e7374727563746f72 81 a9 70726f746f74797065 81 a8 706f6c6c75746564 01'), // constructor.prototype
          hex('81 ab 636f6e7374727563746f72 de0001 a9 70726f746f74797065 01') // the same with a map 16 header
        ]
    for (const body of bodies) await rejectsWith(t, () => codec.decode(body), 'WIREBOX_ERR_FORBIDDEN_KEY', 0x200)
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
    // "constructor" and "prototype" on their own are ordinary keys
    const ok = name === 'json' ? Buffer.from('{"constructor":"x","prototype":{"a":1}}') : independentEncode({ constructor: 'x', prototype: { a: 1 } })
    t.same(codec.decode(ok), { constructor: 'x', prototype: { a: 1 } })
  })

  test(`${name}: 64-bit integers beyond the safe range need BigInt`, async (t) => {
    const codec = make()
    const body = name === 'json' ? Buffer.from('{"n":18446744073709551615}') : hex('81 a1 6e cf ffffffffffffffff')
    await rejectsWith(t, () => codec.decode(body), 'WIREBOX_ERR_UNSAFE_INTEGER', 0x200)
    const negative = name === 'json' ? Buffer.from('{"n":-9007199254740992}') : hex('81 a1 6e d3 ffe0000000000000') // -2^53
    await rejectsWith(t, () => codec.decode(negative), 'WIREBOX_ERR_UNSAFE_INTEGER', 0x200)
    const safe = name === 'json' ? Buffer.from('{"n":9007199254740991}') : hex('81 a1 6e cf 001fffffffffffff') // 2^53 - 1
    t.same(codec.decode(safe), { n: Number.MAX_SAFE_INTEGER })
    const withBigint = name === 'json' ? createJsonCodec({ bigint: true }) : createMessagePackCodec({ bigint: true })
    const wrapped = name === 'json' ? Buffer.from('{"n":{"__bigint__":"18446744073709551615"}}') : body
    t.same(withBigint.decode(wrapped), { n: 2n ** 64n - 1n })
    t.same(withBigint.decode(withBigint.encode({ n: -(2n ** 60n), m: 5n })), { n: -(2n ** 60n), m: 5 })
    if (name === 'json') {
      await rejectsWith(t, () => codec.encode({ n: 2n ** 60n }), 'WIREBOX_ERR_ENCODE_FAILED')
      t.same(codec.decode(Buffer.from('{"n":1e300}')), { n: 1e300 }, 'large floats are floats')
    }
  })

  test(`${name}: malformed bodies are 0x200 DECODE_FAILED`, async (t) => {
    const codec = make()
    const bodies = name === 'json'
      ? [...['{"a":', '', 'nul', '{"a":1} x'].map((s) => Buffer.from(s)), hex('7b22 c3 28 22 3a 31 7d')] // the last: invalid UTF-8
      : [hex('92 01'), hex(''), hex('c1'), hex('01 02'), hex('a5 6162'), hex('dc 7fff'), hex('dd ffffffff'), hex('df ffffffff'), hex('81 c0 01'), hex('81 92 01 02 01')]
    for (const body of bodies) await rejectsWith(t, () => codec.decode(body), 'WIREBOX_ERR_DECODE_FAILED', 0x200)
  })

  test(`${name}: reserved wrapper keys with the wrong shape are rejected`, async (t) => {
    const codec = make()
    const bodies = name === 'json'
      ? ['{"__datetime__":"not a date"}', '{"__bytes__":"***"}', '{"__bytes__":"AQID","x":1}', '{"__ndarray__":"AAAA","dtype":"float128","shape":[1]}',
          '{"__ndarray__":"AAAA","dtype":"float32","shape":[2]}', '{"__ndarray__":"AAAA","dtype":"float32","shape":[1,1]}', '{"__uuid__":"nope"}']
          .map((s) => Buffer.from(s))
      : [independentEncode({ __ndarray__: new Uint8Array(4), dtype: 'float32', shape: [2] }), independentEncode({ __ndarray__: 'AAAA', dtype: 'float32', shape: [1] }),
          independentEncode({ __ndarray__: new Uint8Array(4), dtype: 'float32' })]
    for (const body of bodies) await rejectsWith(t, () => codec.decode(body), 'WIREBOX_ERR_INVALID_TAGGED_VALUE', 0x200)
  })
}

test('json: UUID wrappers read as strings', async (t) => {
  t.same(createJsonCodec().decode(Buffer.from('{"id":{"__uuid__":"123E4567-E89B-12D3-A456-426614174000"}}')), { id: '123e4567-e89b-12d3-a456-426614174000' })
})

test('messagepack: plain MessagePack that an independent library reads', async (t) => {
  const bytes = createMessagePackCodec().encode({ a: [1, -1, 300, 1.5, 'x', null, true], at: new Date(1000), raw: new Uint8Array([9]) })
  const { decode } = await import('@msgpack/msgpack')
  const out = decode(bytes) as Record<string, unknown>
  t.same(out.a, [1, -1, 300, 1.5, 'x', null, true])
  t.ok(out.at instanceof Date)
  t.same([...(out.raw as Uint8Array)], [9])
})

test('messagepack: non-standard extensions are rejected unless enabled', async (t) => {
  const codec = createMessagePackCodec()
  const cases: Array<[string, string]> = [
    ['d4 65 00 93 a5 4572726f72 a1 78 c0', 'msgpackr Error'],
    ['d4 78 00 92 a1 61 a1 67', 'msgpackr RegExp'],
    ['d4 73 00 91 01', 'msgpackr Set'],
    ['d6 74 08 00 00 00 00', 'msgpackr typed array'],
    ['d4 72 40 91 a1 78 41', 'msgpackr record definition'],
    ['d6 70 00 00 00 01', 'msgpackr pointer (cyclic reference)'],
    ['d4 00 00', 'msgpackr undefined'],
    ['c7 03 05 010203', 'an application extension']
  ]
  for (const [body, what] of cases) {
    t.comment(what)
    await rejectsWith(t, () => codec.decode(hex(body)), 'WIREBOX_ERR_UNSUPPORTED_EXTENSION', 0x200)
  }
  await rejectsWith(t, () => codec.decode(hex('d5 ff 0000')), 'WIREBOX_ERR_DECODE_FAILED', 0x200) // timestamp of 2 bytes
  const trusted = createMessagePackCodec({ msgpackExtensions: true })
  const value = { s: new Set([1, 2]), r: /a+/g, f: new Float32Array([1.5]) }
  const out = trusted.decode(trusted.encode(value)) as typeof value
  t.ok(out.s instanceof Set && out.s.has(2), 'Set round-trips when enabled')
  t.ok(out.r instanceof RegExp && out.r.source === 'a+')
  t.ok(out.f instanceof Float32Array && out.f[0] === 1.5)
})

test('messagepack: envelope-sized integers above 2^32 stay exact', async (t) => {
  const codec = createMessagePackCodec()
  t.same(codec.decode(codec.encode({ t: 1_700_000_000_000, n: -(2 ** 40), max: Number.MAX_SAFE_INTEGER })), { t: 1_700_000_000_000, n: -(2 ** 40), max: Number.MAX_SAFE_INTEGER })
})

test('encoding a cyclic value fails with ENCODE_FAILED', async (t) => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  for (const [, make] of codecs) await rejectsWith(t, () => make().encode(cyclic), 'WIREBOX_ERR_ENCODE_FAILED')
})

test('encode with room leaves that many bytes in front of the same body', async (t) => {
  for (const [name, make] of codecs) {
    const codec = make()
    const plain = Buffer.from(codec.encode(custom))
    const roomy = codec.encode(custom, 19)
    t.same(Buffer.from(roomy.subarray(19)), plain, `${name}: the body after the room is the plain encoding`)
  }
  await rejectsWith(t, () => createMessagePackCodec().encode({}, 256), 'WIREBOX_ERR_INVALID_OPTION')
})
