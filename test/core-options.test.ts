/**
 * lib/core/options.ts: the wire core's hand-written option checks say what schemas/wire-options.ts
 * says: the same verdict and the same failing fields (and the same words, except that a field with
 * a few allowed values lists them), for a table of option objects and for generated ones.
 */
import { test } from 'tap'
import type { Test } from 'tap'
import fc from 'fast-check'
import type { TSchema } from '@sinclair/typebox'
import { CODEC_OPTIONS, DECODER_LIMITS, WIRE_SETTINGS, assertCodecOptions, assertDecoderLimits, assertWireSettings, optionProblems } from '../lib/core/options.js'
import type { OptionShape } from '../lib/core/options.js'
import { CodecOptionsSchema, DecoderLimitsSchema, WireSettingsSchema } from '../schemas/wire-options.js'
import { compiledCheck } from '../lib/core/schema-check.js'

const PAIRS: Array<[string, OptionShape, TSchema]> = [
  ['CodecOptions', CODEC_OPTIONS, CodecOptionsSchema],
  ['WireSettings', WIRE_SETTINGS, WireSettingsSchema],
  ['DecoderLimits', DECODER_LIMITS, DecoderLimitsSchema]
]

/** The schema's problems, one per path (the first), as assertOptions reports them. */
function schemaProblems (schema: TSchema, value: unknown): Array<{ path: string, message: string }> {
  const check = compiledCheck(schema)
  if (check.Check(value)) return []
  const problems = new Map<string, string>()
  for (const error of check.Errors(value)) if (!problems.has(error.path)) problems.set(error.path, error.message)
  return [...problems].map(([path, message]) => ({ path, message }))
}

function agree (t: Test, shape: OptionShape, schema: TSchema, value: unknown): boolean {
  const ours = optionProblems(shape, value)
  const theirs = schemaProblems(schema, value)
  const same = ours.length === theirs.length && ours.every((p, i) => {
    const other = theirs[i] as { path: string, message: string }
    return p.path === other.path && (other.message === 'Expected union value' ? p.message.startsWith('Expected one of ') : p.message === other.message)
  })
  if (!same) t.fail('the hand-written check and the schema disagree', { value, ours, theirs })
  return same
}

const base = { encoding: 'messagepack', version: 3, compression: 'gzip' }
const TABLE: unknown[] = [
  {}, base, { ...base, extra: 1 }, { ...base, encoding: 'xml', version: 4, compression: 'zip', chunkSize: 0, compressionLevel: 12 },
  { encoding: 'json' }, { ...base, version: '3' }, { ...base, encoding: undefined }, { ...base, compressionThreshold: undefined },
  { ...base, compressionThreshold: -1 }, { ...base, compressionThreshold: 1.5 }, { ...base, compressionLevel: 9 }, { ...base, compressionLevel: 10 },
  { ...base, compressionMinSavings: 0 }, { ...base, compressionMinSavings: 1 }, { ...base, compressionMinSavings: 1.01 }, { ...base, compressionMinSavings: -0.1 },
  { ...base, compressionMinSavings: Number.NaN }, { ...base, compressionMinSavings: Infinity }, { ...base, compressionMinSavings: '0.5' },
  { ...base, chunkSize: 0xffffffff }, { ...base, chunkSize: 0x100000000 }, { ...base, maxMessageSize: 0 }, { ...base, maxMessageSize: 2n },
  { maxDepth: 1 }, { maxDepth: 0 }, { maxDepth: 10_000 }, { maxDepth: 10_001 }, { maxDepth: 0, bigint: 'yes' }, { bigint: true, msgpackExtensions: false },
  { msgpackExtensions: 1 }, { maxPartialMessages: -1 }, { maxPartialMessages: 1, maxPartialBytes: 0.5, chunkTimeoutMs: 0, allowEncrypted: 'no', maxFrameSize: null },
  { other: 'kept by DecoderLimits, refused by the closed shapes' }, null, undefined, 3, 'gzip', [], [base]
]

test('the hand-written option checks and the schemas agree on a table of option objects', async (t) => {
  for (const [name, shape, schema] of PAIRS) {
    for (const value of TABLE) t.ok(agree(t, shape, schema, value), `${name}: ${JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? `${v}n` : v) ?? String(value)}`)
  }
})

test('the hand-written option checks and the schemas agree on generated option objects', async (t) => {
  const field = fc.oneof(
    fc.integer({ min: -2, max: 12 }), fc.constantFrom(0xffffffff, 0x100000000, 10_000, 10_001, 0.5, 1.01, Number.NaN, Infinity),
    fc.double(), fc.boolean(), fc.constantFrom('messagepack', 'msgpack-compact', 'json', 'gzip', 'deflate', 'none', 'xml'),
    fc.constant(undefined), fc.constant(null), fc.bigInt({ min: -2n, max: 2n })
  )
  const keys = [...new Set(PAIRS.flatMap(([, shape]) => Object.keys(shape.fields)))]
  const value = fc.oneof(
    fc.record(Object.fromEntries([...keys, 'extra'].map((k) => [k, field])), { requiredKeys: [] }),
    fc.anything()
  )
  for (const [name, shape, schema] of PAIRS) {
    fc.assert(fc.property(value, (v) => agree(t, shape, schema, v)), { numRuns: 1500 })
    t.pass(`${name}: generated objects agree`)
  }
})

test('one WIREBOX_ERR_INVALID_OPTION (a TypeError) names every bad field', async (t) => {
  t.doesNotThrow(() => assertWireSettings(base))
  const err = t.throws(() => assertWireSettings({ encoding: 'xml', version: 4, compression: 'none', chunkSize: 0, extra: 1 }), { code: 'WIREBOX_ERR_INVALID_OPTION' }) as Error
  t.ok(err instanceof TypeError)
  t.match(err.message, /wire settings.*\/extra Unexpected property; \/encoding Expected one of "messagepack", "msgpack-compact", "json"; \/version Expected one of 1, 2, 3; \/chunkSize Expected integer to be greater or equal to 1/)
  t.throws(() => assertCodecOptions({ maxDepth: 0, bigint: 'yes' }), { message: /codec options.*\/maxDepth .*; \/bigint Expected boolean/ })
  t.throws(() => assertDecoderLimits({ maxFrameSize: 0 }), { message: /decoder options.*\/maxFrameSize/ })
  t.doesNotThrow(() => assertDecoderLimits({ maxFrameSize: 1, anythingElse: true }), 'decoder options may hold other fields')
})
