/**
 * Compiled TypeBox checks, one per schema, and the first problem of a failed check: the one
 * place that turns a check into the catalog's distinction (a missing required field or not).
 */
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import { ValueErrorType } from '@sinclair/typebox/errors'

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

/** Why a value failed its schema. */
export interface SchemaProblem {
  /** JSON pointer of the failing value ('' for the root). */
  path: string
  message: string
  /** True when a required property is missing (0x201 rather than 0x200). */
  missing: boolean
}

/** The first problem of `value` against `schema`, or undefined when it is valid. */
export function firstProblem (schema: TSchema, value: unknown): SchemaProblem | undefined {
  const check = compiledCheck(schema)
  if (check.Check(value)) return undefined
  const first = check.Errors(value).First()
  return { path: first?.path ?? '', message: first?.message ?? 'invalid', missing: first?.type === ValueErrorType.ObjectRequiredProperty }
}
