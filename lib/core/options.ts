/**
 * The wire core's option checks, once, where options enter: every bad field of one options
 * object is named in a single WIREBOX_ERR_INVALID_OPTION (a TypeError).
 *
 * Each shape below says what its schema in schemas/wire-options.ts says (that file stays the
 * reference for the JSON Schema output); test/options-core.test.ts holds the two to the same
 * verdict and the same failing fields. Written as tables rather than compiled so that the browser
 * client bundles no schema compiler.
 */
import { errors } from '../errors.js'

/** How one field is checked; `required` fields must be present, the others may be absent or undefined. */
export type FieldRule = { required?: boolean } & (
  | { type: 'integer' | 'number', minimum?: number, maximum?: number }
  | { type: 'boolean' }
  | { type: 'oneOf', values: ReadonlyArray<string | number> }
)

/** The fields of an options object; `closed`: any other field is refused. */
export interface OptionShape {
  fields: Readonly<Record<string, FieldRule>>
  closed: boolean
}

/** One bad field: its JSON pointer ('' for the object itself) and why. */
export interface OptionProblem {
  path: string
  message: string
}

const whole = (minimum: number, maximum?: number): FieldRule => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) })
const flag: FieldRule = { type: 'boolean' }

/** CodecOptions (lib/core/codec.ts); schemas/wire-options.ts CodecOptionsSchema. */
export const CODEC_OPTIONS: OptionShape = {
  fields: { maxDepth: whole(1, 10_000), bigint: flag, msgpackExtensions: flag },
  closed: true
}

/** WireSettings (lib/core/wire-settings.ts); schemas/wire-options.ts WireSettingsSchema. */
export const WIRE_SETTINGS: OptionShape = {
  fields: {
    encoding: { type: 'oneOf', values: ['messagepack', 'msgpack-compact', 'json'], required: true },
    version: { type: 'oneOf', values: [1, 2, 3], required: true },
    compression: { type: 'oneOf', values: ['gzip', 'deflate', 'none'], required: true },
    compressionThreshold: whole(0),
    compressionLevel: whole(0, 9),
    compressionMinSavings: { type: 'number', minimum: 0, maximum: 1 },
    chunkSize: whole(1, 0xffffffff),
    maxMessageSize: whole(1, 0xffffffff)
  },
  closed: true
}

/** The limits among DecoderOptions (lib/core/message-decoder.ts); schemas/wire-options.ts DecoderLimitsSchema. */
export const DECODER_LIMITS: OptionShape = {
  fields: { maxPartialMessages: whole(1), maxPartialBytes: whole(1), chunkTimeoutMs: whole(1), allowEncrypted: flag, maxFrameSize: whole(1) },
  closed: false
}

function fieldProblem (rule: FieldRule, value: unknown): string | undefined {
  switch (rule.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'Expected boolean'
    case 'oneOf':
      return rule.values.includes(value as string | number) ? undefined : `Expected one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`
    default: {
      const { type, minimum, maximum } = rule
      if (!(type === 'integer' ? Number.isInteger(value) : Number.isFinite(value))) return `Expected ${type}`
      if (maximum !== undefined && (value as number) > maximum) return `Expected ${type} to be less or equal to ${maximum}`
      if (minimum !== undefined && (value as number) < minimum) return `Expected ${type} to be greater or equal to ${minimum}`
      return undefined
    }
  }
}

/**
 * Every bad field of `value`, one problem per field: the missing required ones, then (closed
 * shapes) the unknown ones, then each field in the shape's order.
 */
export function optionProblems (shape: OptionShape, value: unknown): OptionProblem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ path: '', message: 'Expected object' }]
  const object = value as Record<string, unknown>
  const problems: OptionProblem[] = []
  const entries = Object.entries(shape.fields)
  for (const [key, rule] of entries) {
    if (rule.required === true && !Object.hasOwn(object, key)) problems.push({ path: `/${key}`, message: 'Expected required property' })
  }
  if (shape.closed) {
    for (const key of Object.getOwnPropertyNames(object)) {
      // A JSON pointer, as the schema's check writes it: ~ and / escaped.
      if (!Object.hasOwn(shape.fields, key)) problems.push({ path: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, message: 'Unexpected property' })
    }
  }
  for (const [key, rule] of entries) {
    if (!Object.hasOwn(object, key) || (object[key] === undefined && rule.required !== true)) continue
    const message = fieldProblem(rule, object[key])
    if (message !== undefined) problems.push({ path: `/${key}`, message })
  }
  return problems
}

/** Throws one WIREBOX_ERR_INVALID_OPTION listing every field of `value` that `shape` refuses. */
export function assertShape (shape: OptionShape, value: unknown, what: string): void {
  const problems = optionProblems(shape, value)
  if (problems.length > 0) throw new errors.WIREBOX_ERR_INVALID_OPTION(what, problems.map((p) => `${p.path || '/'} ${p.message}`).join('; '))
}

/** Checks CodecOptions (WIREBOX_ERR_INVALID_OPTION naming every bad field). */
export const assertCodecOptions = (value: unknown): void => assertShape(CODEC_OPTIONS, value, 'codec options')

/** Checks WireSettings (WIREBOX_ERR_INVALID_OPTION naming every bad field). */
export const assertWireSettings = (value: unknown): void => assertShape(WIRE_SETTINGS, value, 'wire settings')

/** Checks the limits among DecoderOptions (WIREBOX_ERR_INVALID_OPTION naming every bad field). */
export const assertDecoderLimits = (value: unknown): void => assertShape(DECODER_LIMITS, value, 'decoder options')
