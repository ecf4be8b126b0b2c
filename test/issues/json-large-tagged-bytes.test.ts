/**
 * Regression (issue 8, item 11): a JSON `{"__bytes__": "<base64>"}` above about 3.2 MiB failed
 * with `0x200 Malformed JSON body: Maximum call stack size exceeded`, because the base64 check was
 * a regular expression that backtracked once per 4-character group. The same data as MessagePack
 * passed. Tagged values of any size up to the largest message now decode, and every tagged type
 * is checked in time linear in its size (PROTOCOL.md "Values beyond JSON").
 */
import { test } from 'tap'
import { createJsonCodec, fromBase64, MessageDecoder, MessageType } from '../../lib/index.js'
import { nodePlatform } from '../../lib/platform/node.js'
import { rawFrame, rejectsWith } from '../helpers.js'

const MiB = 1024 * 1024

/** `size` bytes that are not all alike, so a decoder that mixes them up is seen. */
function pattern (size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >>> 11)) & 255
  return bytes
}

/** The JSON body of an EVENT whose payload is `payload`, written out as text. */
const eventJson = (payload: string): string =>
  `{"type":${MessageType.EVENT},"event_type":"upload","timestamp":1700000000000,"payload":${payload}}`

const jsonDecoder = (): MessageDecoder =>
  new MessageDecoder({ encoding: 'json', version: 3, compression: 'none' }, { platform: nodePlatform })

/** The base64 of `bytes` with its character at `at` replaced by `char`. */
function spoil (bytes: Buffer, at: number, char: string): string {
  const base64 = bytes.toString('base64')
  return base64.slice(0, at) + char + base64.slice(at + 1)
}

test('a 4 MiB __bytes__ value decodes through the JSON codec and a text frame', async (t) => {
  const bytes = pattern(4 * MiB)
  const body = `{"__bytes__":"${bytes.toString('base64')}"}`
  const direct = createJsonCodec().decode(Buffer.from(body))
  t.ok(direct instanceof Uint8Array, 'the codec gives bytes')
  t.ok(bytes.equals(direct as Uint8Array), 'the codec gives the same 4 MiB')

  const message = await jsonDecoder().decode(eventJson(body))
  const payload = message?.envelope?.payload
  t.ok(payload instanceof Uint8Array, 'the payload is bytes')
  t.equal((payload as Uint8Array).length, 4 * MiB)
  t.ok(bytes.equals(payload as Uint8Array), 'the decoder gives the same 4 MiB')
})

test('a 60 MiB base64 __bytes__ value (45 MiB) decodes in a binary frame under the 64 MiB limit', async (t) => {
  const bytes = pattern(45 * MiB)
  const body = Buffer.from(eventJson(`{"raw":{"__bytes__":"${bytes.toString('base64')}"}}`))
  t.ok(body.length > 60 * MiB && body.length < 64 * MiB, `a body of ${body.length} bytes`)
  const message = await jsonDecoder().decode(rawFrame({ version: 3, type: MessageType.EVENT, payload: body }))
  const raw = (message?.envelope?.payload as { raw?: unknown } | undefined)?.raw
  t.ok(raw instanceof Uint8Array, 'the payload holds bytes')
  t.equal((raw as Uint8Array).length, 45 * MiB)
  t.ok(bytes.equals(raw as Uint8Array), 'the same 45 MiB')
})

test('malformed base64 of the same sizes is refused with WIREBOX_ERR_INVALID_TAGGED_VALUE', async (t) => {
  const small = pattern(4 * MiB)
  const large = pattern(45 * MiB)
  const cases: Array<[string, string]> = [
    ['4 MiB, a character outside the alphabet near the end', spoil(small, small.length - 10, '*')],
    ['4 MiB, padding in the middle', spoil(small, 1000, '=')],
    ['4 MiB, one character short', small.toString('base64').slice(1)],
    ['4 MiB, URL-safe alphabet', small.toString('base64url').padEnd(Math.ceil(small.length / 3) * 4, '=')],
    ['60 MiB, a non-ASCII character in the last group', spoil(large, large.length * 4 / 3 - 2, 'é')]
  ]
  for (const [name, base64] of cases) {
    const err = await rejectsWith(t, () => createJsonCodec().decode(Buffer.from(`{"__bytes__":"${base64}"}`)),
      'WIREBOX_ERR_INVALID_TAGGED_VALUE', 0x200)
    t.match((err as Error).message, /__bytes__/, name)
  }
  const ndarray = `{"__ndarray__":"${spoil(small, 5, '-')}","dtype":"float64","shape":[${small.length / 8}]}`
  await rejectsWith(t, () => createJsonCodec().decode(Buffer.from(ndarray)), 'WIREBOX_ERR_INVALID_TAGGED_VALUE', 0x200)
  await rejectsWith(t, () => jsonDecoder().decode(eventJson(`{"__bytes__":"${spoil(small, 7, '!')}"}`)),
    'WIREBOX_ERR_INVALID_TAGGED_VALUE', 0x200)
})

test('a 4 MiB __ndarray__ decodes to its typed array', async (t) => {
  const values = new Float64Array(MiB / 2).map((_, i) => i / 3 - 1000)
  const base64 = Buffer.from(values.buffer).toString('base64')
  const out = createJsonCodec().decode(Buffer.from(`{"__ndarray__":"${base64}","dtype":"float64","shape":[${values.length}]}`))
  t.ok(out instanceof Float64Array)
  t.ok(Buffer.from((out as Float64Array).buffer).equals(Buffer.from(values.buffer)), 'the same values')
})

test('other wrappers holding a 4 MiB string are refused as invalid, not as a decoder failure', async (t) => {
  const digits = '7'.repeat(4 * MiB)
  for (const [key, inner] of [['__datetime__', `2023-11-14T22:13:20.000Z${digits}`], ['__bigint__', digits], ['__uuid__', `123e4567-e89b-12d3-a456-426614174000${digits}`]]) {
    const codec = createJsonCodec({ bigint: true })
    const err = await rejectsWith(t, () => codec.decode(Buffer.from(`{"${key}":"${inner}"}`)), 'WIREBOX_ERR_INVALID_TAGGED_VALUE', 0x200)
    t.match((err as Error).message, key as string)
  }
  // at their normal sizes they still decode
  const codec = createJsonCodec({ bigint: true })
  t.same(codec.decode(Buffer.from(`{"__bigint__":"-${'9'.repeat(400)}"}`)), -BigInt('9'.repeat(400)))
  t.equal((codec.decode(Buffer.from('{"__datetime__":"2023-11-14T22:13:20.123456+00:00"}')) as Date).getTime(), 1700000000123)
})

test('fromBase64 accepts exactly standard padded base64', async (t) => {
  const accepted: Array<[string, number[]]> = [['', []], ['AA==', [0]], ['AAE=', [0, 1]], ['AAEC', [0, 1, 2]], ['+/+/', [251, 255, 191]], ['AAECAw==', [0, 1, 2, 3]]]
  for (const [text, bytes] of accepted) t.same([...(fromBase64(text) ?? [-1])], bytes, JSON.stringify(text))
  for (const text of ['A', 'AA', 'AAA', 'AA=', 'A===', '====', 'AA=A', '=AAA', 'AA==AAAA', 'AAA=AAAA', 'AA-_', 'AA A', 'AAé=', 'AA\n==']) {
    t.equal(fromBase64(text), undefined, JSON.stringify(text))
  }
})
