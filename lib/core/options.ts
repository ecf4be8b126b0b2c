/**
 * Option checking, once, where options enter: every bad field of one options object is named in
 * a single WIREBOX_ERR_INVALID_OPTION (a TypeError).
 */
import type { TSchema } from '@sinclair/typebox'
import { errors } from '../errors.js'
import { compiledCheck } from './schema-check.js'

/** Throws one WIREBOX_ERR_INVALID_OPTION listing every field of `value` that `schema` rejects. */
export function assertOptions (schema: TSchema, value: unknown, what: string): void {
  const check = compiledCheck(schema)
  if (check.Check(value)) return
  const problems = new Map<string, string>()
  for (const error of check.Errors(value)) {
    if (!problems.has(error.path)) problems.set(error.path, `${error.path || '/'} ${error.message}`)
  }
  throw new errors.WIREBOX_ERR_INVALID_OPTION(what, [...problems.values()].join('; '))
}
