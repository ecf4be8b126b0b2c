/**
 * lib/core/envelope.ts: the hand-written envelope check says what schemas/envelope.ts says (the
 * same verdict and the same first problem as the compiled schema, for a table of bodies and for
 * generated ones), and turns a problem into the catalog's 0x201 or 0x200.
 */
import { test } from 'tap'
import fc from 'fast-check'
import { ValueErrorType } from '@sinclair/typebox/errors'
import { assertEnvelope, envelopeProblem, isEnvelope } from '../lib/core/envelope.js'
import { EnvelopeCheck } from '../schemas/envelope.js'
import { WireCode } from '../lib/errors.js'

/** The compiled schema's verdict and first problem, in envelopeProblem's form. */
function schemaProblem (value: unknown): { path: string, message: string, missing: boolean } | undefined {
  if (EnvelopeCheck.Check(value)) return undefined
  const first = EnvelopeCheck.Errors(value).First()
  if (first === undefined) throw new Error('the schema rejects a value without saying why')
  return { path: first.path, message: first.message, missing: first.type === ValueErrorType.ObjectRequiredProperty }
}

const ok = { event_type: 'ecg.data', timestamp: 1_700_000_000_000 }

// Each field with values on both sides of its bounds, and values of the wrong kind.
const TABLE: unknown[] = [
  ok, { ...ok, payload: { a: [1, 2] }, id: 0, topic: 'ecg/p1', seq: 0 }, { ...ok, id: 0xffffffff }, { ...ok, id: 0x100000000 },
  { ...ok, id: -1 }, { ...ok, id: 1.5 }, { ...ok, id: '1' }, { ...ok, id: null }, { ...ok, id: undefined }, { ...ok, id: 1n },
  { ...ok, timestamp: -1 }, { ...ok, timestamp: 0 }, { ...ok, timestamp: -0 }, { ...ok, timestamp: 1.5 }, { ...ok, timestamp: Number.NaN },
  { ...ok, timestamp: Infinity }, { ...ok, timestamp: '1' }, { ...ok, timestamp: undefined }, { ...ok, timestamp: 2 ** 60 },
  { ...ok, event_type: 1 }, { ...ok, event_type: undefined }, { ...ok, event_type: '' }, { ...ok, topic: 1 }, { ...ok, topic: undefined },
  { ...ok, topic: '' }, { ...ok, seq: -1 }, { ...ok, seq: 2 ** 53 }, { ...ok, seq: 0.5 }, { ...ok, payload: undefined }, { ...ok, extra: 1 },
  { timestamp: 1 }, { event_type: 'x' }, {}, { id: -1 }, { event_type: 1, timestamp: 'x', id: -1, topic: 2, seq: -3 },
  { ...ok, event_type: 2, seq: -1 }, { ...ok, id: 2 ** 32, topic: 3 }, { ...ok, topic: 3, seq: 'x' },
  null, undefined, 1, 'x', [], [ok], new Uint8Array(2), new Date(0), Object.create(null)
]

test('the hand-written check and the schema agree on a table of bodies', async (t) => {
  for (const value of TABLE) {
    t.same(envelopeProblem(value), schemaProblem(value), `${JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? `${v}n` : v) ?? String(value)}`)
    t.equal(isEnvelope(value), EnvelopeCheck.Check(value))
  }
})

test('the hand-written check and the schema agree on generated bodies', async (t) => {
  const field = fc.oneof(
    fc.integer({ min: -10, max: 10 }), fc.constantFrom(0xffffffff, 0x100000000, 2 ** 53, -0, 0.5, Number.NaN, Infinity),
    fc.double(), fc.string({ maxLength: 3 }), fc.constant(undefined), fc.constant(null), fc.bigInt({ min: -2n, max: 2n }),
    fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 2 }), fc.integer(), { maxKeys: 2 })
  )
  const body = fc.oneof(
    fc.record({ event_type: field, timestamp: field, payload: field, id: field, topic: field, seq: field }, { requiredKeys: [] }),
    fc.record({ event_type: fc.string(), timestamp: fc.nat(), payload: fc.anything(), id: field, topic: field, seq: field }, { requiredKeys: ['event_type', 'timestamp'] }),
    fc.anything()
  )
  fc.assert(fc.property(body, (value) => {
    t.same(envelopeProblem(value), schemaProblem(value))
    return isEnvelope(value) === EnvelopeCheck.Check(value)
  }), { numRuns: 2000 })
})

test('a missing field is 0x201, anything else 0x200, both naming the path', async (t) => {
  t.doesNotThrow(() => assertEnvelope({ ...ok, id: 7 }))
  t.throws(() => assertEnvelope({ timestamp: 1 }), { code: 'WIREBOX_ERR_MISSING_FIELDS', wireCode: WireCode.MISSING_REQUIRED_FIELDS, details: { path: '/event_type' } })
  t.throws(() => assertEnvelope({ event_type: 'x' }), { code: 'WIREBOX_ERR_MISSING_FIELDS', details: { path: '/timestamp' } })
  t.throws(() => assertEnvelope({ ...ok, id: 2 ** 32 }), { code: 'WIREBOX_ERR_INVALID_ENVELOPE', wireCode: WireCode.INVALID_DATA_FORMAT, message: /\/id/, details: { path: '/id' } })
  t.throws(() => assertEnvelope({ ...ok, event_type: undefined }), { code: 'WIREBOX_ERR_INVALID_ENVELOPE', details: { path: '/event_type' } }, 'present but undefined is not missing')
  t.throws(() => assertEnvelope([ok]), { code: 'WIREBOX_ERR_INVALID_ENVELOPE', message: /not a map\/object/ })
})
