/**
 * Checking a decoded body against the envelope schema, with the catalog's errors: a missing
 * required field is 0x201, anything else 0x200, both naming the failing path.
 */
import { Envelope } from '../../schemas/envelope.js'
import { firstProblem } from './schema-check.js'
import { errors } from '../errors.js'

/** Throws WIREBOX_ERR_MISSING_FIELDS or WIREBOX_ERR_INVALID_ENVELOPE unless `value` is an envelope. */
export function assertEnvelope (value: unknown): asserts value is Envelope {
  const problem = firstProblem(Envelope, value)
  if (problem === undefined) return
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new errors.WIREBOX_ERR_INVALID_ENVELOPE('the body is not a map/object', '/')
  }
  const path = problem.path || '/'
  const err = problem.missing
    ? new errors.WIREBOX_ERR_MISSING_FIELDS(path)
    : new errors.WIREBOX_ERR_INVALID_ENVELOPE(problem.message, path)
  err.details = { path }
  throw err
}
