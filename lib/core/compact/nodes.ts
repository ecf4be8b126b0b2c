/**
 * Schema nodes of the msgpack-compact layout (PROTOCOL.md section 9): each TypeBox schema kind
 * compiled into its positional wire form and back.
 */
import { Kind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { quantumScale } from '../quantum.js'
import { DTYPES, taggedToNdarray } from '../tagged-values.js'
import type { NumericArray } from '../tagged-values.js'
import { LayoutError, MAX_COUNT, within } from './layout-types.js'
import type { LayoutField, LayoutNode } from './layout-types.js'
import type { CompactWriter } from './writer.js'

type Json = Record<string, unknown>

function kindOf (schema: TSchema): string | undefined {
  return (schema as Json & { [Kind]?: string })[Kind]
}

/** True when a schema admits null (or may: kinds it cannot see into). */
export function admitsNull (schema: TSchema): boolean {
  const s = schema as Json
  switch (kindOf(schema)) {
    case 'Null': case 'Any': case 'Unknown': return true
    case 'Union': return (s.anyOf as TSchema[]).some(admitsNull)
    case 'Intersect': return (s.allOf as TSchema[]).every(admitsNull)
    case 'String': case 'Number': case 'Integer': case 'Boolean': case 'Literal': case 'Object': case 'Array': case 'Tuple':
    case 'Date': case 'Uint8Array': case 'BigInt': case 'WireboxNdArray': case 'Record': case 'Undefined': case 'Void':
    case 'TemplateLiteral': case 'RegExp': case 'Never':
      return false
    default: return true
  }
}

function fail (what: string): never {
  throw new LayoutError(true, what)
}

function misfit (what: string): never {
  throw new LayoutError(false, what)
}

const identity = (value: unknown): unknown => value

/** The wire form of anything without a fixed layout: the value itself, as messagepack writes it. */
function valueNode (schema: TSchema): LayoutNode {
  return { kind: 'value', schema, write: (w, value) => w.value(value), decode: identity, describe: 'value' }
}

/** Compiles one schema (exported for the schema generators and tests). */
export function compileNode (schema: TSchema): LayoutNode {
  const s = schema as Json
  const scale = quantumScale(schema)
  switch (kindOf(schema)) {
    case 'Number':
      return scale === undefined ? valueNode(schema) : quantizedNode(schema, scale)
    case 'Object':
      return objectNode(schema)
    case 'Array': {
      const item = compileNode(s.items as TSchema)
      if (s['x-delta'] === true) {
        if (item.kind !== 'quantized') throw new TypeError('x-delta needs an array of Quantized numbers (use QuantizedArray)')
        return deltaNode(schema, item.scale)
      }
      return arrayNode(schema, item)
    }
    case 'Tuple': {
      const items = Array.isArray(s.items) ? (s.items as TSchema[]).map(compileNode) : []
      return items.some((n) => n.kind !== 'value') ? tupleNode(schema, items) : valueNode(schema)
    }
    case 'WireboxNdArray':
      return ndarrayNode(schema, s.dtype as string)
    default:
      return valueNode(schema)
  }
}

function objectNode (schema: TSchema): LayoutNode {
  const s = schema as Json
  const properties = (s.properties ?? {}) as Record<string, TSchema>
  const required = new Set(Array.isArray(s.required) ? s.required as string[] : [])
  const extra = s.additionalProperties
  // Extra properties that mean something, or optional ones that may be null (nil could not say
  // absent from null): the object keeps its self-describing map form.
  if ((extra !== undefined && extra !== false) || s.patternProperties !== undefined ||
    Object.entries(properties).some(([name, p]) => !required.has(name) && admitsNull(p))) {
    return valueNode(schema)
  }
  const fields: LayoutField[] = Object.entries(properties).map(([name, p]) => ({
    name, optional: !required.has(name), nullable: admitsNull(p), node: compileNode(p)
  }))
  const n = fields.length
  const names = fields.map((f) => f.name)
  const nodes = fields.map((f) => f.node)
  const passThrough = nodes.map((node) => node.kind === 'value')
  const nilValue = fields.map((f) => (f.optional || !f.nullable ? undefined : null))
  return {
    kind: 'object',
    schema,
    fields,
    describe: { object: fields.map((f) => [f.name, f.node.describe, f.optional ? 1 : 0]) },
    write (w, value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected an object')
      const object = value as Record<string, unknown>
      w.array(n)
      let i = 0
      try {
        for (; i < n; i++) {
          const key = names[i] as string
          const v = Object.hasOwn(object, key) ? object[key] : undefined
          if (v === undefined) w.nil()
          else (nodes[i] as LayoutNode).write(w, v)
        }
      } catch (err) { within(err, names[i] as string) }
    },
    decode (wire) {
      if (!Array.isArray(wire) || wire.length !== n) misfit(`expected an array of ${n} items (the object's properties)`)
      const out: Record<string, unknown> = {}
      let i = 0
      try {
        for (; i < n; i++) {
          const w = wire[i]
          const key = names[i] as string
          let v: unknown
          if (w === null) {
            v = nilValue[i]
            if (v === undefined) continue
          } else {
            v = passThrough[i] === true ? w : (nodes[i] as LayoutNode).decode(w)
          }
          if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
          else out[key] = v
        }
      } catch (err) { within(err, names[i] as string) }
      return out
    }
  }
}

function arrayNode (schema: TSchema, item: LayoutNode): LayoutNode {
  if (item.kind === 'value') return valueNode(schema)
  if (item.kind === 'quantized') return quantizedArrayNode(schema, item)
  return {
    kind: 'array',
    schema,
    item,
    describe: { array: item.describe },
    write (w, value) {
      if (!Array.isArray(value)) fail('expected an array')
      const n = value.length
      w.array(n)
      let i = 0
      try {
        for (; i < n; i++) {
          const v = value[i]
          if (v === undefined || v === null) w.nil()
          else item.write(w, v)
        }
      } catch (err) { within(err, i) }
    },
    decode (wire) {
      if (!Array.isArray(wire)) misfit('expected an array')
      let i = 0
      try {
        for (; i < wire.length; i++) {
          const w = wire[i]
          if (w !== null) wire[i] = item.decode(w)
        }
      } catch (err) { within(err, i) }
      return wire
    }
  }
}

/** An array of quantized numbers, element by element, in one loop. */
function quantizedArrayNode (schema: TSchema, item: LayoutNode & { kind: 'quantized' }): LayoutNode {
  const scale = item.scale
  return {
    kind: 'array',
    schema,
    item,
    describe: { array: item.describe },
    write (w, value) {
      if (!Array.isArray(value)) fail('expected an array')
      const n = value.length
      w.array(n)
      let i = 0
      try {
        for (; i < n; i++) writeQuantized(w, value[i], scale)
      } catch (err) { within(err, i) }
    },
    decode (wire) {
      if (!Array.isArray(wire)) misfit('expected an array')
      // In place: the array is the decoder's own.
      const n = wire.length
      for (let i = 0; i < n; i++) {
        const w = wire[i]
        if (typeof w === 'number' && Number.isInteger(w)) wire[i] = w / scale
      }
      return wire
    }
  }
}

function tupleNode (schema: TSchema, items: LayoutNode[]): LayoutNode {
  const n = items.length
  return {
    kind: 'tuple',
    schema,
    items,
    describe: { tuple: items.map((node) => node.describe) },
    write (w, value) {
      if (!Array.isArray(value) || value.length !== n) fail(`expected an array of ${n} items`)
      w.array(n)
      let i = 0
      try {
        for (; i < n; i++) {
          const v = value[i]
          if (v === undefined || v === null) w.nil()
          else (items[i] as LayoutNode).write(w, v)
        }
      } catch (err) { within(err, i) }
    },
    decode (wire) {
      if (!Array.isArray(wire) || wire.length !== items.length) misfit(`expected an array of ${items.length} items`)
      let i = 0
      const out = new Array<unknown>(items.length)
      try {
        for (; i < items.length; i++) {
          const w = wire[i]
          out[i] = w === null ? null : (items[i] as LayoutNode).decode(w)
        }
      } catch (err) { within(err, i) }
      return out
    }
  }
}

/**
 * The count of quanta of `value`, when it is an exact multiple with a count below MAX_COUNT;
 * else undefined. A whole number is always a multiple (the scale is whole): one too large to
 * count cannot travel at all, since as a float it would read as a count.
 */
function countOf (value: number, scale: number): number | undefined {
  const count = Math.round(value * scale)
  if (count / scale === value && count < MAX_COUNT && count > -MAX_COUNT) return count
  if (Number.isInteger(value)) fail(`${value} is too large for its quantum 1/${scale} (counts must stay below 2^52)`)
  return undefined
}

/** Writes a count: beyond 32 bits as int 64 (msgpackr would write such a number as a float). */
function writeCount (w: CompactWriter, count: number): void {
  if (count > 0xffffffff || count < -0x80000000) w.int64(count)
  else w.number(count)
}

/** Writes a quantized value: its count when it is a multiple, else the value itself. */
function writeQuantized (w: CompactWriter, value: unknown, scale: number): void {
  if (typeof value !== 'number') return w.value(value)
  const count = countOf(value, scale)
  if (count === undefined) w.number(value)
  else writeCount(w, count)
}

function quantizedNode (schema: TSchema, scale: number): LayoutNode & { kind: 'quantized' } {
  return {
    kind: 'quantized',
    schema,
    scale,
    describe: { quantum: scale },
    write: (w, value) => writeQuantized(w, value, scale),
    // A count is an integer; a float is the value itself (senders never write a whole float).
    decode: (wire) => typeof wire === 'number' && Number.isInteger(wire) ? wire / scale : wire
  }
}

function deltaNode (schema: TSchema, scale: number): LayoutNode {
  const elements = quantizedArrayNode(schema, quantizedNode(schema, scale))
  return {
    kind: 'delta',
    schema,
    scale,
    describe: { delta: scale },
    write (w, value) {
      if (!Array.isArray(value)) fail('expected an array')
      const n = value.length
      const start = w.pos
      w.array(n)
      let previous = 0
      let i = 0
      try {
        for (; i < n; i++) {
          const v = value[i]
          if (typeof v !== 'number') break
          const count = countOf(v, scale)
          if (count === undefined) break
          writeCount(w, count - previous)
          previous = count
        }
      } catch (err) { within(err, i) }
      if (i === n) return
      // Not every value is a multiple: element by element, which holds at least one float.
      w.pos = start
      elements.write(w, value)
    },
    decode (wire) {
      if (!Array.isArray(wire)) misfit('expected an array')
      const n = wire.length
      for (let i = 0; i < n; i++) {
        const w = wire[i]
        if (typeof w !== 'number' || !Number.isInteger(w)) return elements.decode(wire)
      }
      // All counts: summed in place (the array is the decoder's own).
      let sum = 0
      for (let i = 0; i < n; i++) {
        sum += wire[i] as number
        if (sum >= MAX_COUNT || sum <= -MAX_COUNT) within(new LayoutError(false, 'differences add up to a count beyond 2^52'), i)
        wire[i] = sum / scale
      }
      return wire
    }
  }
}

function ndarrayNode (schema: TSchema, dtype: string): LayoutNode {
  const Class = DTYPES[dtype]
  if (Class === undefined) return valueNode(schema)
  return {
    kind: 'ndarray',
    schema,
    dtype,
    describe: { ndarray: dtype },
    write (w, value) {
      if (!(value instanceof Class)) return w.value(value)
      const array = value as NumericArray
      w.bin(new Uint8Array(array.buffer, array.byteOffset, array.byteLength))
    },
    decode (wire) {
      if (!(wire instanceof Uint8Array)) return wire
      if (wire.length % Class.BYTES_PER_ELEMENT !== 0) misfit(`${wire.length} bytes do not hold whole ${dtype} values`)
      return taggedToNdarray(wire, dtype, [wire.length / Class.BYTES_PER_ELEMENT])
    }
  }
}
