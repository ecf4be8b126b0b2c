/**
 * A standalone `.d.ts` for clients that cannot import the server's code: one type per payload
 * and an event map (`Events`, `Requests`), printed from the TypeBox schemas.
 */
import { Kind, OptionalKind, ReadonlyKind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import type { ProtocolDefinition } from '../protocol.js'
import { protocolTables } from '../protocol-tables.js'
import { Definitions } from './definitions.js'
import { dtypeInfo } from '../core/dtypes.js'

type S = TSchema & Record<string, unknown>

/** `ecg.history` -> `EcgHistory`. */
function typeName (name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean)
  const joined = words.map((w) => (w[0] as string).toUpperCase() + w.slice(1)).join('')
  return /^[0-9]/.test(joined) ? `T${joined}` : joined || 'Unnamed'
}

const key = (name: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name))

/**
 * A template literal's pattern (TypeBox writes `^...$` with `(.*)`, `(0|[1-9][0-9]*)`,
 * `(true|false)` and `(a|b)` groups, other characters escaped) as a template literal type.
 */
function templateLiteralType (pattern: string): string {
  const body = pattern.replace(/^\^/, '').replace(/\$$/, '')
  const [parts, end] = templateParts(body, 0)
  if (end !== body.length) return 'string' // not a pattern TypeBox writes: a plain string
  return printTemplate(parts)
}

type TemplatePart = string | { alternatives: TemplatePart[][] }
const slot = (type: string): string => '$' + `{${type}}`
const TOKENS: Array<[string, string]> = [['(.*)', slot('string')], ['(0|[1-9][0-9]*)', slot('number')], ['(true|false)', slot('boolean')], ['(?!.*)', 'NEVER']]

function templateParts (text: string, start: number): [TemplatePart[], number] {
  const parts: TemplatePart[] = []
  let i = start
  while (i < text.length) {
    const c = text[i] as string
    if (c === ')' || c === '|') break
    const token = TOKENS.find(([pattern]) => text.startsWith(pattern, i))
    if (token !== undefined) {
      parts.push({ alternatives: [[token[1]]] })
      i += token[0].length
    } else if (c === '(') {
      const alternatives: TemplatePart[][] = []
      i++
      for (;;) {
        const [alternative, next] = templateParts(text, i)
        alternatives.push(alternative)
        i = next
        if (text[i] !== '|') break
        i++
      }
      if (text[i] !== ')') return [parts, -1]
      i++
      parts.push({ alternatives })
    } else if (c === '\\' && i + 1 < text.length) {
      parts.push(text[i + 1] as string)
      i += 2
    } else {
      parts.push(c)
      i++
    }
  }
  return [parts, i]
}

function printTemplate (parts: TemplatePart[]): string {
  if (parts.some((p) => typeof p !== 'string' && p.alternatives.length === 1 && p.alternatives[0]?.[0] === 'NEVER')) return 'never'
  if (parts.every((p) => typeof p === 'string')) return JSON.stringify(parts.join(''))
  const inner = parts.map((p) => {
    if (typeof p === 'string') return p.replace(/[\\`]/g, '\\$&').replace(/\$\{/g, '\\${')
    const only = p.alternatives.length === 1 && p.alternatives[0]?.length === 1 ? p.alternatives[0][0] : undefined
    if (typeof only === 'string' && only.startsWith('$')) return only
    return slot(p.alternatives.map(printTemplate).join(' | '))
  })
  return '`' + inner.join('') + '`'
}

/** Record keys: TypeBox's patterns for string and number keys, else a template literal. */
function recordKey (pattern: string): string {
  if (pattern === '^(.*)$') return 'string'
  if (pattern === '^(0|[1-9][0-9]*)$') return 'number'
  return templateLiteralType(pattern)
}

/** Kinds that hold functions or promises: nothing a codec can send. */
const NOT_ON_THE_WIRE = new Set(['Function', 'Constructor', 'Promise', 'Symbol', 'Iterator', 'AsyncIterator'])

/**
 * The TypeScript type of a schema. Recursive schemas become aliases in `definitions`, named after
 * their `$id` (a standalone call gets a fresh one, and its aliases are lost: pass one to keep them).
 */
export function schemaToType (schema: S, indent = '', definitions: Definitions<string> = new Definitions(typeName)): string {
  const inner = indent + '  '
  const type = (s: S, at = indent): string => schemaToType(s, at, definitions)
  const kind = schema[Kind]
  if (kind !== undefined && NOT_ON_THE_WIRE.has(kind)) throw new Error(`a ${kind} cannot travel in a message`)
  const name = definitions.named(schema, (body) => schemaToType(body as S, '', definitions))
  if (name !== undefined) return name
  switch (kind) {
    case 'String': case 'RegExp': return 'string'
    case 'Number': case 'Integer': return 'number'
    case 'Boolean': return 'boolean'
    case 'Null': return 'null'
    case 'Undefined': return 'undefined'
    case 'Void': return 'void'
    case 'BigInt': return 'bigint'
    case 'Date': return 'Date'
    case 'Uint8Array': return 'Uint8Array'
    case 'Any': return 'any'
    case 'Never': return 'never'
    case 'WireboxNdArray': return dtypeInfo(schema.dtype)?.typeName ?? 'ArrayBufferView'
    case 'Literal': return JSON.stringify(schema.const)
    case 'TemplateLiteral': return templateLiteralType(String(schema.pattern))
    case 'This': case 'Ref': return definitions.resolve(String(schema.$ref))
    case 'Array': return `Array<${type(schema.items as S)}>`
    case 'Tuple': return `[${((schema.items ?? []) as S[]).map((s) => type(s)).join(', ')}]`
    case 'Union': return ((schema.anyOf as S[]).map((s) => type(s))).join(' | ')
    case 'Intersect': return ((schema.allOf as S[]).map((s) => s[Kind] === 'Union' ? `(${type(s)})` : type(s))).join(' & ')
    case 'Record': {
      const [pattern, value] = Object.entries((schema.patternProperties ?? {}) as Record<string, S>)[0] ?? ['^(.*)$', undefined]
      return `Record<${recordKey(pattern)}, ${value === undefined ? 'unknown' : type(value)}>`
    }
    case 'Object': {
      const properties = (schema.properties ?? {}) as Record<string, S>
      const required = new Set((schema.required ?? []) as string[])
      const lines = Object.entries(properties).map(([name, s]) => {
        const optional = !required.has(name) || s[OptionalKind] === 'Optional'
        const readonly = s[ReadonlyKind] === 'Readonly' ? 'readonly ' : ''
        const doc = typeof s.description === 'string' ? `${inner}/** ${s.description.replace(/\*\//g, '* /')} */\n` : ''
        return `${doc}${inner}${readonly}${key(name)}${optional ? '?' : ''}: ${type(s, inner)}`
      })
      if (lines.length > 0) return `{\n${lines.join('\n')}\n${indent}}`
      return schema.additionalProperties === false ? 'Record<string, never>' : '{}'
    }
    default: return 'unknown' // Unknown, Not, and kinds of other libraries
  }
}

/** The `.d.ts` text of a protocol. */
export function protocolTypeScript (protocol: ProtocolDefinition, options: { title?: string } = {}): string {
  const out: string[] = [
    `// Generated by \`wirebox schema --format typescript\` from ${options.title ?? 'a wirebox protocol'}. Do not edit.`,
    '// Payload types of a wirebox route, and maps from event and request names to them.',
    ''
  ]
  const events: string[] = []
  const fromServer: string[] = []
  const fromClient: string[] = []
  const requests: string[] = []
  const tables = protocolTables(protocol)
  const reserved = ['Events', 'ServerToClientEvents', 'ClientToServerEvents', 'Requests', ...[...tables.events.keys()].map((name) => `${typeName(name)}Event`),
    ...Object.keys(protocol.requests ?? {}).flatMap((name) => [`${typeName(name)}Request`, `${typeName(name)}Response`])]
  const definitions = new Definitions<string>(typeName, reserved)
  for (const [name, schema] of tables.events) {
    const type = `${typeName(name)}Event`
    out.push(`/** Payload of the event \`${name}\`. */`, `export type ${type} = ${schemaToType(schema as S, '', definitions)}`, '')
    const entry = `  ${JSON.stringify(name)}: ${type}`
    events.push(entry)
    if (tables.fromServer.has(name)) fromServer.push(entry)
    if (tables.fromClient.has(name)) fromClient.push(entry)
  }
  for (const [name, request] of Object.entries(protocol.requests ?? {})) {
    const base = typeName(name)
    out.push(`/** Payload of the request \`${name}\`. */`, `export type ${base}Request = ${schemaToType(request.payload as S, '', definitions)}`, '')
    out.push(`/** Response to the request \`${name}\`. */`, `export type ${base}Response = ${schemaToType(request.response as S, '', definitions)}`, '')
    requests.push(`  ${JSON.stringify(name)}: { payload: ${base}Request, response: ${base}Response }`)
  }
  for (const [name, body] of definitions.bodies) out.push('/** A recursive type (Type.Recursive). */', `export type ${name} = ${body}`, '')
  out.push('/** Events by name, whoever sends them. */', `export interface Events {\n${events.join('\n')}\n}`, '')
  out.push('/** Events the server sends (serverToClient and events): what a client listens to. */', `export interface ServerToClientEvents {\n${fromServer.join('\n')}\n}`, '')
  out.push('/** Events a client sends (clientToServer and events): what the server handles. */', `export interface ClientToServerEvents {\n${fromClient.join('\n')}\n}`, '')
  out.push('/** Requests by name. */', `export interface Requests {\n${requests.join('\n')}\n}`, '')
  return out.join('\n')
}
