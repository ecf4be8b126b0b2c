/**
 * JSON Schema of msgpack-compact bodies (PROTOCOL.md section 9), from the compiled layout, so a
 * client in another language encodes and decodes them from the generated documents alone: each
 * body is a tuple (2020-12 `prefixItems`, draft-07 `items` for AsyncAPI) whose annotations name
 * the fields, the quanta and delta coding, and the event ids:
 *
 * | annotation              | on                   | meaning                                                  |
 * |-------------------------|----------------------|----------------------------------------------------------|
 * | `x-wirebox-layout-hash` | a body               | the layout hash PROTOCOL_NEGOTIATION must announce       |
 * | `x-wirebox-event`       | slot 0               | the event or request name whose id is the `const`        |
 * | `x-wirebox-fields`      | a tuple of an object | property names, in slot order                            |
 * | `x-quantum`, `x-scale`  | a number             | an integer k is the value k / x-scale; a float is itself |
 * | `x-delta`               | an array             | integers are differences: value i = (k0 + ... + ki) / x-scale |
 * | `x-ndarray`             | bin                  | the dtype of the little-endian elements                  |
 * | `x-wirebox-form`        | any                  | `messagepack`: a self-describing value (section 5)       |
 */
import { Kind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { compileLayout } from '../core/compact/layout.js'
import type { CompactLayout, LayoutEntry, LayoutNode } from '../core/compact/layout.js'
import type { ProtocolDefinition } from '../protocol.js'
import { acceptsUndefined, toJsonWireSchema } from './json-schema.js'
import type { Dialect } from './json-schema.js'

type Json = Record<string, unknown>

/** The annotation keywords the compact schemas use (for validators in strict mode: declare them). */
export const COMPACT_KEYWORDS = ['x-wirebox-layout', 'x-wirebox-layout-hash', 'x-wirebox-event', 'x-wirebox-fields', 'x-quantum', 'x-scale', 'x-delta', 'x-ndarray', 'x-wirebox-form'] as const

/** Kinds whose MessagePack form is not their JSON form, and references the tuple cannot inline. */
const NOT_AS_IN_JSON = new Set(['Date', 'Uint8Array', 'WireboxNdArray', 'BigInt', 'Undefined', 'Void'])

function asInJson (value: unknown): boolean {
  if (Array.isArray(value)) return value.every(asInJson)
  if (typeof value !== 'object' || value === null) return true
  const s = value as Json & { [Kind]?: string }
  if (s[Kind] !== undefined && NOT_AS_IN_JSON.has(s[Kind])) return false
  if (typeof s.$ref === 'string') return false
  return Object.values(s).every(asInJson)
}

/** Drops the compact annotations from a part that travels self-describing (they would mislead). */
function withoutCompactKeywords (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCompactKeywords)
  if (typeof value !== 'object' || value === null) return value
  const out: Json = {}
  for (const [k, v] of Object.entries(value)) if (k !== 'x-quantum' && k !== 'x-delta') out[k] = withoutCompactKeywords(v)
  return out
}

function annotations (schema: TSchema): Json {
  const out: Json = {}
  for (const key of ['title', 'description']) if ((schema as Json)[key] !== undefined) out[key] = (schema as Json)[key]
  return out
}

function arrayBounds (schema: TSchema): Json {
  const out: Json = {}
  for (const key of ['minItems', 'maxItems']) if ((schema as Json)[key] !== undefined) out[key] = (schema as Json)[key]
  return out
}

function tuple (items: unknown[], dialect: Dialect, extra: Json = {}): Json {
  if (items.length === 0) return { type: 'array', ...extra, maxItems: 0 }
  return dialect === '2020-12'
    ? { type: 'array', prefixItems: items, items: false, ...extra }
    : { type: 'array', items, additionalItems: false, ...extra }
}

const orNil = (schema: unknown): Json => ({ anyOf: [schema, { type: 'null' }] })

/** The JSON Schema of one node's wire form, as @msgpack/msgpack and the like decode it. */
export function compactNodeSchema (node: LayoutNode, dialect: Dialect = '2020-12'): unknown {
  switch (node.kind) {
    case 'object': {
      const items = node.fields.map((f) => {
        const inner = compactNodeSchema(f.node, dialect)
        return f.optional ? orNil(inner) : inner
      })
      return tuple(items, dialect, { ...annotations(node.schema), minItems: items.length, maxItems: items.length, 'x-wirebox-fields': node.fields.map((f) => f.name) })
    }
    case 'array':
      return { ...annotations(node.schema), type: 'array', items: compactNodeSchema(node.item, dialect), ...arrayBounds(node.schema) }
    case 'tuple': {
      const items = node.items.map((n) => compactNodeSchema(n, dialect))
      return tuple(items, dialect, { ...annotations(node.schema), minItems: items.length, maxItems: items.length })
    }
    case 'quantized':
      return { ...annotations(node.schema), type: 'number', 'x-quantum': 1 / node.scale, 'x-scale': node.scale, $comment: 'an integer k is the value k / x-scale; a float is the value itself' }
    case 'delta':
      return {
        ...annotations(node.schema),
        type: 'array',
        items: { type: 'number' },
        ...arrayBounds(node.schema),
        'x-quantum': 1 / node.scale,
        'x-scale': node.scale,
        'x-delta': true,
        $comment: 'all integers: differences, value i = (k0 + ... + ki) / x-scale; else element by element (an integer k is k / x-scale, a float is itself)'
      }
    case 'ndarray':
      return { ...annotations(node.schema), 'x-ndarray': node.dtype, 'x-wirebox-form': 'bin', $comment: `MessagePack bin: the ${node.dtype} elements, little-endian` }
    case 'value':
      return asInJson(node.schema)
        ? withoutCompactKeywords(toJsonWireSchema(node.schema, { dialect }))
        : { ...annotations(node.schema), 'x-wirebox-form': 'messagepack', $comment: 'a self-describing MessagePack value (PROTOCOL.md section 5)' }
  }
}

const TYPES = { EVENT: 0x01, REQUEST: 0x02, RESPONSE: 0x03 } as const

/** The body of one compact message: `[event, payload, id, topic, seq]` (PROTOCOL.md section 9.2). */
export function compactMessageSchema (layout: CompactLayout, entry: LayoutEntry, type: keyof typeof TYPES, dialect: Dialect = '2020-12'): Json {
  const node = type === 'RESPONSE' ? entry.response as LayoutNode : entry.payload
  const payload = compactNodeSchema(node, dialect)
  const mayBeMissing = acceptsUndefined(node.schema)
  const withId = type !== 'EVENT'
  const items = [
    { const: entry.id, 'x-wirebox-event': entry.name, description: `id of ${type === 'EVENT' ? 'event' : 'request'} "${entry.name}"` },
    mayBeMissing ? orNil(payload) : payload,
    withId ? { type: 'integer', minimum: 0, maximum: 0xffffffff, description: 'correlation id' } : { type: ['integer', 'null'], minimum: 0, maximum: 0xffffffff, description: 'correlation id (with ACK_REQUIRED), or nil' },
    { type: ['string', 'null'], description: 'topic, on topic messages' },
    { type: 'integer', minimum: 0, description: 'per-topic sequence number, on topic messages' }
  ]
  return tuple(items, dialect, {
    title: `${type} ${entry.name} (msgpack-compact)`,
    description: `Body of a ${type} (0x0${TYPES[type]}) "${entry.name}" in msgpack-compact: [event, payload, id, topic, seq], trailing absent fields left out, others nil; the envelope timestamp is the v3 header's (PROTOCOL.md section 9).`,
    minItems: withId ? 3 : mayBeMissing ? 1 : 2,
    'x-wirebox-fields': ['event', 'payload', 'id', 'topic', 'seq'],
    'x-wirebox-layout-hash': layout.hash
  })
}

/** Every compact body of a protocol, by definition name (`compact.event.<name>`, `compact.request.<name>`, `compact.response.<name>`). */
export function compactSchemas (protocol: ProtocolDefinition, dialect: Dialect = '2020-12'): Record<string, Json> {
  const layout = compileLayout(protocol)
  const out: Record<string, Json> = {}
  for (const e of layout.events) out[`compact.event.${e.name}`] = compactMessageSchema(layout, e, 'EVENT', dialect)
  for (const r of layout.requests) {
    out[`compact.request.${r.name}`] = compactMessageSchema(layout, r, 'REQUEST', dialect)
    out[`compact.response.${r.name}`] = compactMessageSchema(layout, r, 'RESPONSE', dialect)
  }
  return out
}
