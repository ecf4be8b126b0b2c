/**
 * Checking a decoded body against the envelope (PROTOCOL.md "Envelope"), with the catalog's
 * errors: a missing required field is 0x201, anything else 0x200, both naming the failing path.
 *
 * Written by hand rather than compiled from schemas/envelope.ts: it runs for every message, the
 * browser client bundles it (no schema compiler, no `new Function`, so no CSP 'unsafe-eval'), and
 * it is the same check: test/envelope.test.ts holds it to the schema's verdict and first problem.
 */
import type { Envelope } from '../../schemas/envelope.js'
import { errors } from '../errors.js'

/** Why a body is not an envelope: the first failing path, as the schema's check reports it. */
export interface EnvelopeProblem {
  /** JSON pointer of the failing field ('' for the body itself). */
  path: string
  message: string
  /** True when a required field is missing (0x201 rather than 0x200). */
  missing: boolean
}

const U32_MAX = 0xffffffff

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isWhole = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0

/** True when `value` is an envelope; the hot path, a handful of comparisons. */
export function isEnvelope (value: unknown): value is Envelope {
  if (!isObject(value)) return false
  const { event_type: eventType, timestamp, id, topic, seq } = value
  return typeof eventType === 'string' && isWhole(timestamp) &&
    (id === undefined || (isWhole(id) && id <= U32_MAX)) &&
    (topic === undefined || typeof topic === 'string') &&
    (seq === undefined || isWhole(seq))
}

/** A whole number field's problem, in the schema's order (type, then maximum, then minimum). */
function wholeProblem (path: string, value: unknown, max?: number): EnvelopeProblem | undefined {
  if (!Number.isInteger(value)) return { path, message: 'Expected integer', missing: false }
  if (max !== undefined && (value as number) > max) return { path, message: `Expected integer to be less or equal to ${max}`, missing: false }
  if ((value as number) < 0) return { path, message: 'Expected integer to be greater or equal to 0', missing: false }
  return undefined
}

/**
 * The first problem of `value` as an envelope, or undefined: the body, then the required fields
 * that are absent, then each field in the envelope's order (event_type, timestamp, payload, id,
 * topic, seq); an optional field holding `undefined` counts as absent.
 */
export function envelopeProblem (value: unknown): EnvelopeProblem | undefined {
  if (isEnvelope(value)) return undefined
  if (!isObject(value)) return { path: '', message: 'Expected object', missing: false }
  for (const key of ['event_type', 'timestamp']) {
    if (!Object.hasOwn(value, key)) return { path: `/${key}`, message: 'Expected required property', missing: true }
  }
  if (typeof value.event_type !== 'string') return { path: '/event_type', message: 'Expected string', missing: false }
  return wholeProblem('/timestamp', value.timestamp) ??
    (value.id === undefined ? undefined : wholeProblem('/id', value.id, U32_MAX)) ??
    (value.topic === undefined || typeof value.topic === 'string' ? undefined : { path: '/topic', message: 'Expected string', missing: false }) ??
    (value.seq === undefined ? undefined : wholeProblem('/seq', value.seq))
}

/** Throws WIREBOX_ERR_MISSING_FIELDS or WIREBOX_ERR_INVALID_ENVELOPE unless `value` is an envelope. */
export function assertEnvelope (value: unknown): asserts value is Envelope {
  if (isEnvelope(value)) return
  if (!isObject(value)) throw new errors.WIREBOX_ERR_INVALID_ENVELOPE('the body is not a map/object', '/')
  const problem = envelopeProblem(value) ?? { path: '', message: 'invalid', missing: false }
  const path = problem.path || '/'
  const err = problem.missing
    ? new errors.WIREBOX_ERR_MISSING_FIELDS(path)
    : new errors.WIREBOX_ERR_INVALID_ENVELOPE(problem.message, path)
  err.details = { path }
  throw err
}
