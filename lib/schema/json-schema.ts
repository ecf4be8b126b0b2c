/**
 * JSON Schema (2020-12) of a protocol as it travels in the JSON encoding: TypeBox schemas with
 * the JavaScript-only types (Date, Uint8Array, typed arrays, BigInt) replaced by their tagged
 * wrappers (PROTOCOL.md section 5), and one document with the envelope and every payload.
 */
import { Kind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { Envelope } from '../../schemas/envelope.js'
import type { ProtocolDefinition } from '../protocol.js'

type Json = Record<string, unknown>

const BASE64 = { type: 'string', contentEncoding: 'base64', pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$' }

function wrapper (key: string, value: Json, extra: Json = {}, required: string[] = []): Json {
  return { type: 'object', properties: { [key]: value, ...extra }, required: [key, ...required], additionalProperties: false }
}

/** The JSON-encoding form of one TypeBox schema (a new object; the input is not changed). */
export function toJsonWireSchema (schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonWireSchema)
  if (typeof schema !== 'object' || schema === null) return schema
  const s = schema as Json & { [Kind]?: string }
  switch (s[Kind]) {
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
    default: {
      const out: Json = {}
      for (const [key, value] of Object.entries(s)) {
        if (key === '$id') continue // sub-schemas are embedded in one document
        out[key] = toJsonWireSchema(value)
      }
      return out
    }
  }
}

function annotations (s: Json): Json {
  const out: Json = {}
  for (const key of ['title', 'description', 'examples', 'default']) if (s[key] !== undefined) out[key] = s[key]
  return out
}

/** Names of the `$defs` of a protocol's payloads. */
export function defNames (protocol: ProtocolDefinition): { events: Record<string, string>, requests: Record<string, { payload: string, response: string }> } {
  return {
    events: Object.fromEntries(Object.keys(protocol.events ?? {}).map((name) => [name, `event.${name}`])),
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
 */
export function protocolJsonSchema (protocol: ProtocolDefinition, options: DocumentOptions = {}): Json {
  const names = defNames(protocol)
  const defs: Json = { envelope: toJsonWireSchema(Envelope) }
  const branches: Json[] = []
  const message = (type: number | number[], eventType: string | undefined, payloadRef: string | undefined): Json => ({
    allOf: [{ $ref: '#/$defs/envelope' }],
    properties: {
      type: Array.isArray(type) ? { enum: type } : { const: type },
      ...(eventType === undefined ? {} : { event_type: { const: eventType } }),
      ...(payloadRef === undefined ? {} : { payload: { $ref: `#/$defs/${payloadRef}` } })
    },
    ...(payloadRef === undefined ? {} : { required: ['payload'] })
  })
  for (const [name, schema] of Object.entries(protocol.events ?? {})) {
    const def = names.events[name] as string
    defs[def] = toJsonWireSchema(schema as TSchema)
    branches.push(message(0x01, name, def))
  }
  for (const [name, request] of Object.entries(protocol.requests ?? {})) {
    const def = names.requests[name] as { payload: string, response: string }
    defs[def.payload] = toJsonWireSchema(request.payload)
    defs[def.response] = toJsonWireSchema(request.response)
    branches.push({ ...message(0x02, name, def.payload), required: ['payload', 'id'] })
    branches.push({ ...message(0x03, name, def.response), required: ['payload', 'id'] })
  }
  // Control messages (ACK, heartbeats, subscriptions, negotiation, errors): the envelope alone.
  branches.push(message([0x04, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0xfd, 0xfe, 0xff], undefined, undefined))
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:wirebox:${encodeURIComponent(options.title ?? 'protocol')}`,
    title: options.title ?? 'wirebox protocol',
    description: `Message bodies of the WebSocket route ${options.path ?? '/ws'} in the JSON encoding (PROTOCOL.md).`,
    $defs: defs,
    anyOf: branches
  }
}
