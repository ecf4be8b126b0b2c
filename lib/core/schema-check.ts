/**
 * Compiled TypeBox checks, one per schema, and the problems of a failed check: the one place
 * that turns a check into the catalog's distinction (a missing required field or not) and says
 * which values a literal, enum or union of literals allows. Used by the server's options and
 * payload validation; the wire core's own checks (envelope, options) are written by hand so that
 * the browser client bundles no compiler.
 */
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import { ValueErrorType } from '@sinclair/typebox/errors'
import { errors } from '../errors.js'

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>()

/** The compiled check of a schema, compiled on first use and kept. */
export function compiledCheck (schema: TSchema): TypeCheck<TSchema> {
  let check = checks.get(schema)
  if (check === undefined) {
    check = TypeCompiler.Compile(schema)
    checks.set(schema, check)
  }
  return check
}

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

/** Why a value failed its schema. */
export interface SchemaProblem {
  /** JSON pointer of the failing value ('' for the root). */
  path: string
  message: string
  /** True when a required property is missing (0x201 rather than 0x200). */
  missing: boolean
  /** The values allowed, when the schema is a literal, an enum or a union of literals. */
  allowed?: Array<string | number | boolean>
}

/** The first problem of `value` against `schema`, or undefined when it is valid. */
export function firstProblem (schema: TSchema, value: unknown): SchemaProblem | undefined {
  const check = compiledCheck(schema)
  if (check.Check(value)) return undefined
  const first = check.Errors(value).First()
  return { path: first?.path ?? '', message: first?.message ?? 'invalid', missing: first?.type === ValueErrorType.ObjectRequiredProperty }
}

/**
 * Every problem of `value` against `schema` (at most `max`), in TypeBox's order: one per path
 * (a missing property is not also reported as of the wrong type); literals, enums and unions of
 * literals say which values were allowed. Call it only for a value that failed its check.
 */
export function schemaProblems (schema: TSchema, value: unknown, max: number): SchemaProblem[] {
  const out: SchemaProblem[] = []
  const missingPaths = new Set<string>()
  for (const error of compiledCheck(schema).Errors(value)) {
    if (out.length >= max) break
    if (missingPaths.has(error.path)) continue
    const missing = error.type === ValueErrorType.ObjectRequiredProperty
    if (missing) missingPaths.add(error.path)
    const allowed = allowedValues(error.schema)
    out.push(allowed === undefined
      ? { path: error.path, message: error.message, missing }
      : { path: error.path, message: `Expected ${allowed.length > 1 ? 'one of ' : ''}${allowed.map((v) => JSON.stringify(v)).join(', ')}`, missing, allowed })
  }
  if (out.length === 0) out.push({ path: '', message: 'invalid', missing: false })
  return out
}

type Literal = string | number | boolean

/** The values a literal, an enum (a union of literals) or a union of literals allows. */
function allowedValues (schema: TSchema): Literal[] | undefined {
  if (isLiteral(schema.const)) return [schema.const]
  const members: unknown = schema.anyOf
  if (!Array.isArray(members) || members.length === 0) return undefined
  const values: Literal[] = []
  for (const member of members as TSchema[]) {
    if (!isLiteral(member?.const)) return undefined
    values.push(member.const)
  }
  return values
}

function isLiteral (value: unknown): value is Literal {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}
