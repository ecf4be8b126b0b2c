/**
 * The three schema generators over every TypeBox kind a payload may use (test/fixtures/
 * schema-corpus.ts): the JSON Schema compiles with Ajv 2020 in strict mode and judges the JSON
 * wire form of each value as TypeBox judges the value; the AsyncAPI document parses and its
 * payload schemas judge alike; the .d.ts compiles and each type is mutually assignable with
 * `Static<>` of its schema.
 */
import { test } from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import ts from 'typescript'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Ajv } from 'ajv'
import { Parser } from '@asyncapi/parser'
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { corpus, corpusProtocol } from './fixtures/schema-corpus.js'
import type { CorpusEntry } from './fixtures/schema-corpus.js'
import { protocolJsonSchema, toJsonWireSchema } from '../lib/schema/json-schema.js'
import { protocolAsyncApi } from '../lib/schema/asyncapi.js'
import { COMPACT_KEYWORDS } from '../lib/schema/compact-schema.js'
import { protocolTypeScript, schemaToType } from '../lib/schema/typescript.js'
import { createJsonCodec } from '../lib/index.js'

const entries = Object.entries(corpus) as Array<[string, CorpusEntry]>
const codec = createJsonCodec({ bigint: true })
/** An EVENT body as the JSON encoding sends it. */
const wire = (event: string, payload: unknown): unknown =>
  JSON.parse(codec.encodeText({ type: 1, event_type: event, timestamp: 1, ...(payload === undefined ? {} : { payload }) }))
const formats = { 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) }

/** Every value of `key` anywhere in a document. */
function collect (value: unknown, key: string, out: unknown[] = []): unknown[] {
  if (typeof value !== 'object' || value === null) return out
  for (const [k, v] of Object.entries(value)) {
    if (k === key) out.push(v)
    collect(v, key, out)
  }
  return out
}

test('the corpus: TypeBox accepts each valid value and refuses each invalid one', async (t) => {
  for (const [name, entry] of entries) {
    for (const value of entry.valid) t.ok(Value.Check(entry.schema, value), `${name} accepts ${inspect(value)}`)
    for (const value of entry.invalid) t.notOk(Value.Check(entry.schema, value), `${name} refuses ${inspect(value)}`)
  }
})

test('JSON Schema 2020-12: compiles with strict Ajv 2020 and judges the wire form of every value as TypeBox does', async (t) => {
  const document = protocolJsonSchema(corpusProtocol)
  const ajv = new Ajv2020({ strict: true, allErrors: true, formats })
  for (const keyword of COMPACT_KEYWORDS) ajv.addKeyword(keyword)
  const validate = ajv.compile(document)
  for (const [name, entry] of entries) {
    for (const value of entry.valid) t.ok(validate(wire(name, value)), `${name}: valid ${ajv.errorsText(validate.errors)}`)
    for (const value of entry.invalid) t.notOk(validate(wire(name, value)), `${name}: refuses ${String(JSON.stringify(wire(name, value)))}`)
  }
  const refs = collect(document, '$ref') as string[]
  t.ok(refs.length > 0)
  for (const ref of refs) t.match(ref, /^#\/\$defs\/[A-Za-z0-9._-]+$/, `${ref} points into $defs`)
  const defs = document.$defs as Record<string, unknown>
  t.ok(defs.TreeNode && defs.Category && defs.TagList, 'one definition per recursive schema')
  t.notOk(Object.keys(defs).some((key) => /^TreeNode\d/.test(key)), 'the same Type.Recursive, wrapped by Optional, is one definition')
  t.same(collect(document, 'items').filter(Array.isArray), [], 'no array-form items (2019-09 and earlier)')
  t.same((defs['event.tuple'] as { prefixItems: unknown[], items: unknown }).items, false)
  t.equal((defs['event.tuple'] as { prefixItems: unknown[] }).prefixItems.length, 3)
  // A schema on its own carries its definitions.
  const alone = toJsonWireSchema(corpus.recursive.schema) as { $ref: string, $defs: Record<string, unknown> }
  t.equal(alone.$ref, '#/$defs/TreeNode')
  t.ok(new Ajv2020({ strict: true }).compile(alone)({ value: 1, children: [{ value: 2, children: [] }] }))
  t.throws(() => toJsonWireSchema(Type.Object({ x: Type.Ref('Elsewhere') })), /unresolved \$ref "Elsewhere"/)
  t.throws(() => protocolJsonSchema({ events: { f: Type.Object({ f: Type.Function([], Type.Void()) }) } }), /\/properties\/f: a Function cannot travel/)
})

test('AsyncAPI 3.0: parses without errors, and each payload schema (draft-07) judges values as TypeBox does', async (t) => {
  const document = protocolAsyncApi(corpusProtocol, { path: '/ws' }) as { components: { messages: Record<string, unknown>, schemas: Record<string, unknown> } }
  const { diagnostics } = await new Parser().parse(document as never)
  t.same(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`), [], 'no errors')
  t.ok(document.components.schemas.TreeNode, 'recursive schemas in components.schemas')
  for (const ref of collect(document, '$ref') as string[]) t.match(ref, /^#\/(channels\/wirebox(\/messages\/[A-Za-z0-9._-]+)?|components\/(messages|schemas)\/[A-Za-z0-9._-]+)$/)
  const ajv = new Ajv({ strict: false, formats })
  ajv.addSchema({ ...document, $id: 'urn:wirebox:asyncapi' })
  for (const [name, entry] of entries) {
    const validate = ajv.getSchema(`urn:wirebox:asyncapi#/components/messages/event.${name}/payload`)
    if (validate === undefined) {
      t.fail(`no payload schema for ${name}`)
      continue
    }
    for (const value of entry.valid) t.ok(validate(wire(name, value)), `${name}: valid ${ajv.errorsText(validate.errors)}`)
    for (const value of entry.invalid) t.notOk(validate(wire(name, value)), `${name}: refuses the wire form of an invalid value`)
  }
})

test('TypeScript: the .d.ts compiles, and each type is mutually assignable with Static<> of its schema', async (t) => {
  const dts = protocolTypeScript(corpusProtocol)
  const dir = mkdtempSync(join(tmpdir(), 'wirebox-corpus-'))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(join(dir, 'corpus.d.ts'), dts)
  const fixture = fileURLToPath(new URL('./fixtures/schema-corpus.js', import.meta.url))
  const names = entries.map(([name]) => name)
  writeFileSync(join(dir, 'check.ts'), [
    `import type { CorpusStatic, CorpusRequests } from ${JSON.stringify(fixture)}`,
    "import type { Events, Requests } from './corpus.js'",
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false',
    ...names.map((name) => `export const ${name}: Same<Events['${name}'], CorpusStatic['${name}']> = true`),
    "export const treeGrowPayload: Same<Requests['tree.grow']['payload'], CorpusRequests['tree.grow']['payload']> = true",
    "export const treeGrowResponse: Same<Requests['tree.grow']['response'], CorpusRequests['tree.grow']['response']> = true",
    '// Same<> can fail: these differ.',
    "export const control: Same<Events['tuple'], CorpusStatic['emptyTuple']> = false",
    "export const controlTemplate: Same<Events['templateNumber'], string> = false",
    ''
  ].join('\n'))
  const program = ts.createProgram([join(dir, 'check.ts')], {
    strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node']
  })
  const messages = ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file === undefined || d.start === undefined ? '' : d.file.text.split('\n')[d.file.getLineAndCharacterOfPosition(d.start).line]
    return `${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n  at: ${line}`
  })
  t.same(messages, [], 'compiles')
  if (messages.length > 0) t.comment(dts)
  t.match(dts, /export type TreeNode = \{\n {2}value: number\n {2}children: Array<TreeNode>\n\}/)
  t.match(dts, /readonly id: string/)
  t.match(dts, /readonly tag\?: number/)
  t.match(dts, /export type TemplateNumberEvent = `user-\$\{number\}`/)
  t.equal(dts.match(/\bunknown\b/g)?.length, 1, 'unknown only where the schema says Type.Unknown()')
  t.equal(schemaToType(Type.Intersect([Type.Object({ a: Type.String() }), Type.Union([Type.Null(), Type.Number()])]) as never), '{\n  a: string\n} & (null | number)')
})
