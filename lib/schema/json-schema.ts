/**
 * JSON Schema (2020-12) of a protocol as it travels in the JSON encoding: TypeBox schemas with
 * the JavaScript-only types (Date, Uint8Array, typed arrays, BigInt) replaced by their tagged
 * wrappers (PROTOCOL.md section 5), and one document with the envelope and every payload.
 */
import { Kind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { Envelope } from '../../schemas/envelope.js'
import type { ProtocolDefinition } from '../protocol.js'
import { protocolTables } from '../protocol-tables.js'
import { Definitions } from './definitions.js'
import { compileLayout } from '../core/compact/layout.js'
import { compactSchemas } from './compact-schema.js'

type Json = Record<string, unknown>

const BASE64 = { type: 'string', contentEncoding: 'base64', pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' }

function wrapper (key: string, value: Json, extra: Json = {}, required: string[] = []): Json {
  return { type: 'object', properties: { [key]: value, ...extra }, required: [key, ...required], additionalProperties: false }
}

/** The JSON Schema dialect to write: 2020-12 (JSON Schema documents) or draft-07 (AsyncAPI 3.0 schemas). */
export type Dialect = '2020-12' | 'draft-07'

/** Where one document keeps the definitions of recursive schemas, and how it refers to them. */
interface WireSchemaContext {
  /** Default '2020-12'. */
  dialect?: Dialect
  /** Collects the recursive schemas met (default: a new one; the result then carries its own `$defs`). */
  definitions?: Definitions<unknown>
  /** Prefix of a reference to a definition (default '#/$defs/'). */
  refBase?: string
}

/** Definition names: what AsyncAPI allows in component keys, which JSON pointers need not escape. */
export const definitionName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_') || 'Schema'

/** Kinds that hold functions or promises: nothing a codec can send. */
const NOT_ON_THE_WIRE = new Set(['Function', 'Constructor', 'Promise', 'Symbol', 'Iterator', 'AsyncIterator'])

/**
 * The JSON-encoding form of one TypeBox schema (a new object; the input is not changed). Without
 * `context.definitions`, a recursive schema's definitions come back in the result's own `$defs`.
 * Throws for a `$ref` to anything but an enclosing Type.Recursive, and for kinds that cannot travel.
 */
export function toJsonWireSchema (schema: unknown, context: WireSchemaContext = {}): unknown {
  if (context.definitions !== undefined) return convert(schema, context as Required<WireSchemaContext>, '')
  const definitions = new Definitions<unknown>(definitionName)
  const out = convert(schema, { dialect: context.dialect ?? '2020-12', definitions, refBase: context.refBase ?? '#/$defs/' }, '')
  if (definitions.bodies.size === 0) return out
  return { ...(out as Json), $defs: Object.fromEntries(definitions.bodies) }
}

function convert (schema: unknown, context: Required<WireSchemaContext>, path: string): unknown {
  if (Array.isArray(schema)) return schema.map((item, i) => convert(item, context, `${path}/${i}`))
  if (typeof schema !== 'object' || schema === null) return schema
  const s = schema as Json & { [Kind]?: string }
  const kind = s[Kind]
  if (kind !== undefined && NOT_ON_THE_WIRE.has(kind)) throw new Error(`${path || '/'}: a ${kind} cannot travel in a message`)
  const name = context.definitions.named(s, (body) => convert(body, context, path))
  if (name !== undefined) return { $ref: `${context.refBase}${name}` }
  switch (kind) {
    case 'Date': return { ...annotations(s), ...wrapper('__datetime__', { type: 'string', format: 'date-time' }) }
    case 'Uint8Array': return { ...annotations(s), ...wrapper('__bytes__', BASE64) }
    case 'BigInt': return { ...annotations(s), anyOf: [{ type: 'integer' }, wrapper('__bigint__', { type: 'string', pattern: '^-?\\d+$' })] }
    case 'WireboxNdArray': {
      const dtype = s.dtype as string
      return {
        ...annotations(s),
        'x-ndarray': dtype,
        ...wrapper('__ndarray__', BASE64, {
          dtype: { const: dtype },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 1 }
        }, ['dtype', 'shape'])
      }
    }
    // An undefined value is left out of a message (PROTOCOL.md section 5): no JSON value is one.
    case 'Undefined': case 'Void': return { ...annotations(s), not: {} }
    case 'RegExp': {
      const flags = String(s.flags ?? '')
      // JSON Schema patterns are ECMA-262 with the u flag and no others.
      return /^[ugy]*$/.test(flags)
        ? { ...annotations(s), type: 'string', pattern: s.source }
        : { ...annotations(s), type: 'string', $comment: `matches /${String(s.source)}/${flags} (flags a JSON Schema pattern cannot carry)` }
    }
    case 'Tuple': {
      const items = (Array.isArray(s.items) ? s.items : []).map((item, i) => convert(item, context, `${path}/${i}`))
      const { items: _items, additionalItems: _additional, [Kind]: _kind, ...rest } = s
      const out = plain(rest, context, path)
      // 2020-12 names the positions prefixItems and forbids the rest with items: false.
      return context.dialect === '2020-12'
        ? { ...out, ...(items.length === 0 ? {} : { prefixItems: items }), items: false }
        : { ...out, ...(items.length === 0 ? {} : { items }), additionalItems: false }
    }
    default: {
      if (typeof s.$ref === 'string') return { ...annotations(s), $ref: `${context.refBase}${context.definitions.resolve(s.$ref)}` }
      return plain(s, context, path)
    }
  }
}

function plain (s: Json, context: Required<WireSchemaContext>, path: string): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(s)) {
    if (key === '$id') continue // sub-schemas are embedded in one document
    out[key] = convert(value, context, `${path}/${key}`)
  }
  return out
}

function annotations (s: Json): Json {
  const out: Json = {}
  for (const key of ['title', 'description', 'examples', 'default']) if (s[key] !== undefined) out[key] = s[key]
  return out
}

/** Names of the `$defs` of a protocol's payloads. */
function defNames (protocol: ProtocolDefinition): { events: Record<string, string>, requests: Record<string, { payload: string, response: string }> } {
  return {
    events: Object.fromEntries([...protocolTables(protocol).events.keys()].map((name) => [name, `event.${name}`])),
    requests: Object.fromEntries(Object.keys(protocol.requests ?? {}).map((name) => [name, { payload: `request.${name}`, response: `response.${name}` }]))
  }
}

/** Options of the generated documents. */
export interface DocumentOptions {
  /** Title (default 'wirebox protocol'). */
  title?: string
  /** Version of the API (default '1.0.0'). */
  version?: string
  /** The WebSocket route (default '/ws'). */
  path?: string
}

/**
 * One JSON Schema 2020-12 document: `$defs` with the envelope and every payload, and a root that
 * accepts any JSON message body of the protocol (events, requests, responses, control messages).
 * The msgpack-compact bodies are in `$defs` too (`compact.event.<name>`, `compact.request.<name>`,
 * `compact.response.<name>`: tuples, PROTOCOL.md section 9), with the layout in `x-wirebox-layout`.
 */
export function protocolJsonSchema (protocol: ProtocolDefinition, options: DocumentOptions = {}): Json {
  const names = defNames(protocol)
  const compact = compactSchemas(protocol, '2020-12')
  const reserved = ['envelope', ...Object.values(names.events), ...Object.values(names.requests).flatMap((r) => [r.payload, r.response]), ...Object.keys(compact)]
  const context = { dialect: '2020-12' as const, definitions: new Definitions<unknown>(definitionName, reserved), refBase: '#/$defs/' }
  const defs: Json = { envelope: toJsonWireSchema(Envelope) }
  const branches: Json[] = []
  const message = (type: number | number[], eventType: string | undefined, payload?: { ref: string, schema: TSchema }, required: string[] = []): Json => ({
    type: 'object',
    allOf: [{ $ref: '#/$defs/envelope' }],
    properties: {
      type: Array.isArray(type) ? { enum: type } : { const: type },
      ...(eventType === undefined ? {} : { event_type: { const: eventType } }),
      ...(payload === undefined ? {} : { payload: { $ref: `#/$defs/${payload.ref}` } })
    },
    ...(payload === undefined && required.length === 0 ? {} : { required: [...(payload === undefined || acceptsUndefined(payload.schema) ? [] : ['payload']), ...required] })
  })
  for (const [name, schema] of protocolTables(protocol).events) {
    const def = names.events[name] as string
    defs[def] = toJsonWireSchema(schema, context)
    branches.push(message(0x01, name, { ref: def, schema }))
  }
  for (const [name, request] of Object.entries(protocol.requests ?? {})) {
    const def = names.requests[name] as { payload: string, response: string }
    defs[def.payload] = toJsonWireSchema(request.payload, context)
    defs[def.response] = toJsonWireSchema(request.response, context)
    branches.push(message(0x02, name, { ref: def.payload, schema: request.payload }, ['id']))
    branches.push(message(0x03, name, { ref: def.response, schema: request.response }, ['id']))
  }
  // Control messages (ACK, heartbeats, subscriptions, negotiation, errors): the envelope alone.
  branches.push(message([0x04, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0xfd, 0xfe, 0xff], undefined))
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:wirebox:${encodeURIComponent(options.title ?? 'protocol')}`,
    title: options.title ?? 'wirebox protocol',
    description: `Message bodies of the WebSocket route ${options.path ?? '/ws'} in the JSON encoding (PROTOCOL.md).`,
    'x-wirebox-layout': compileLayout(protocol).summary,
    $defs: { ...defs, ...Object.fromEntries(context.definitions.bodies), ...compact },
    anyOf: branches
  }
}

/** True when a payload may be left out: its schema accepts undefined (Void, Undefined, Any, Unknown, or a union with one). */
export function acceptsUndefined (schema: unknown): boolean {
  const s = schema as Json & { [Kind]?: string }
  switch (s[Kind]) {
    case 'Undefined': case 'Void': case 'Any': case 'Unknown': return true
    case 'Union': return (s.anyOf as unknown[]).some(acceptsUndefined)
    default: return false
  }
}
