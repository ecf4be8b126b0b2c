/**
 * bench/bundle: what the browser client costs a page. The prebuilt bundle
 * (dist/browser/wirebox-client.js, built by scripts/build-browser.ts) and a user's bundle of
 * `createClient`, minified and gzipped, against socket.io-client's (a user's bundle of `io`), built
 * in the same run by esbuild with the same options, as ratios. Three variants show what making
 * validation opt-in would save: the client's payload validation left out (lib/protocol.ts's
 * validator stubbed); every check done with the TypeBox compiler left out (the wire core's envelope
 * and option checks too); and no TypeBox at all (also the `Type` builder, which the envelope and
 * wire-option schemas call as they load: a floor, since checks written by hand would add a little
 * back). Then what the prebuilt bundle is made of.
 *
 * Run: npm run bench   (or: tsx bench/bundle.ts)
 */
import { build, version as esbuildVersion } from 'esbuild'
import type { Metafile, Plugin } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { printTable } from './table.js'
import { BROWSER_BUNDLE_OPTIONS, buildBrowserBundle, ROOT } from '../scripts/build-browser.js'

const GZIP_LEVEL = 9

/** Replaces the validator lib/protocol.ts imports (payload validation) with one that finds no problem. */
function withoutPayloadValidation (): { plugin: Plugin, applied: () => boolean } {
  let applied = false
  const plugin: Plugin = {
    name: 'without-payload-validation',
    setup (b) {
      b.onResolve({ filter: /\/schema-check\.js$/ }, (args) => {
        if (!args.importer.endsWith(join('lib', 'protocol.ts'))) return undefined
        applied = true
        return { path: 'payload-validator', namespace: 'stub' }
      })
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export function firstProblem () { return undefined }', loader: 'js' }))
    }
  }
  return { plugin, applied: () => applied }
}

/**
 * Replaces TypeBox modules with stubs of the names the client imports (esbuild fails on any other):
 * the compiler and its errors only (`compiler`), or TypeBox as a whole (`all`).
 */
function withoutTypeBox (which: 'compiler' | 'all'): { plugin: Plugin, applied: () => boolean } {
  let applied = false
  const compiler = `export const TypeCompiler = { Compile: () => ({ Check: () => true, Errors: () => [] }) }
export const ValueErrorType = {}`
  const builder = `const schema = () => ({})
export const Type = new Proxy({}, { get: () => schema })
export const Kind = Symbol.for('TypeBox.Kind')`
  const plugin: Plugin = {
    name: `without-typebox-${which}`,
    setup (b) {
      b.onResolve({ filter: which === 'all' ? /^@sinclair\/typebox(\/|$)/ : /^@sinclair\/typebox\/(compiler|errors)$/ }, (args) => {
        applied = true
        return { path: args.path, namespace: 'no-typebox' }
      })
      b.onLoad({ filter: /.*/, namespace: 'no-typebox' }, () => ({ contents: which === 'all' ? `${compiler}\n${builder}` : compiler, loader: 'js' }))
    }
  }
  return { plugin, applied: () => applied }
}

/** A user's bundle of `code` (an entry module in the repository's root), built as the prebuilt client is. */
async function userBundle (code: string, plugins: Plugin[] = []): Promise<{ bytes: Uint8Array, metafile: Metafile }> {
  const result = await build({ ...BROWSER_BUNDLE_OPTIONS, stdin: { contents: code, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' }, absWorkingDir: ROOT, plugins })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild wrote no output')
  return { bytes: output.contents, metafile: result.metafile }
}

const inputsOf = (metafile: Metafile): string[] => Object.values(metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name))

const work = mkdtempSync(join(tmpdir(), 'wirebox-bench-bundle-'))
const prebuilt = await buildBrowserBundle(join(work, 'wirebox-client.js'))
const prebuiltBytes = readFileSync(prebuilt.outfile)
rmSync(work, { recursive: true, force: true })

const socketIo = await userBundle("export { io } from 'socket.io-client'")
const createClientOnly = await userBundle("export { createClient } from './lib/client/browser.js'")
const noPayloadValidation = withoutPayloadValidation()
const withoutValidation = await userBundle("export { createClient } from './lib/client/browser.js'", [noPayloadValidation.plugin])
const noCompiler = withoutTypeBox('compiler')
const withoutCompiler = await userBundle("export { createClient } from './lib/client/browser.js'", [noCompiler.plugin])
const noTypeBox = withoutTypeBox('all')
const withoutTypeBoxAtAll = await userBundle("export { createClient } from './lib/client/browser.js'", [noTypeBox.plugin])
// A stub that no longer matches what the client imports would measure nothing: refuse to print.
if (!noPayloadValidation.applied()) throw new Error('lib/protocol.ts no longer imports ./core/schema-check.js: update the payload validation variant')
if (!noCompiler.applied() || inputsOf(withoutCompiler.metafile).some((i) => i.includes('node_modules/@sinclair/typebox/build/esm/compiler/'))) throw new Error('the variant without the TypeBox compiler still bundles it')
if (!noTypeBox.applied() || inputsOf(withoutTypeBoxAtAll.metafile).some((i) => i.includes('node_modules/@sinclair/typebox/'))) throw new Error('the no-TypeBox variant still bundles TypeBox')
if (inputsOf(socketIo.metafile).every((i) => !i.includes('node_modules/engine.io-client/'))) throw new Error('the socket.io-client bundle has no engine.io-client: not the whole client')

const version = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
const baseline = { min: socketIo.bytes.length, gzip: gzipSync(socketIo.bytes, { level: GZIP_LEVEL }).length }
const rows: Array<[string, Uint8Array]> = [
  [`socket.io-client ${version('socket.io-client')}: a user's bundle of { io } (baseline)`, socketIo.bytes],
  ['wirebox prebuilt bundle, dist/browser/wirebox-client.js (as shipped)', prebuiltBytes],
  ['wirebox, a user\'s bundle of { createClient }', createClientOnly.bytes],
  ['wirebox { createClient }, the client\'s payload validation stubbed (lib/protocol.ts)', withoutValidation.bytes],
  ['wirebox { createClient }, every TypeBox check stubbed (payload, envelope, options)', withoutCompiler.bytes],
  ['wirebox { createClient }, no TypeBox at all (checks and schemas; a floor)', withoutTypeBoxAtAll.bytes]
]
const table = rows.map(([name, bytes]) => {
  const gzip = gzipSync(bytes, { level: GZIP_LEVEL }).length
  return [name, String(bytes.length), (bytes.length / baseline.min).toFixed(2), String(gzip), (gzip / baseline.gzip).toFixed(2)]
})

// What the prebuilt bundle is made of: minified bytes by package, or by folder of this repository.
const parts = new Map<string, number>()
for (const output of Object.values(prebuilt.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    const part = match !== null ? `${match[1] as string} ${version(match[1] as string)}` : input.replace(/^(lib\/[^/]+\/|schemas\/).*$/, '$1').replace(/^lib\/[^/]+\.ts$/, 'lib/*.ts')
    parts.set(part, (parts.get(part) ?? 0) + bytesInOutput)
  }
}
const total = [...parts.values()].reduce((a, b) => a + b, 0)
const typeboxImporters = Object.entries(prebuilt.metafile.inputs)
  .filter(([input]) => !input.includes('node_modules/'))
  .map(([input, { imports }]) => [input, [...new Set(imports.map((i) => i.original ?? '').filter((o) => o.startsWith('@sinclair/typebox')))]] as const)
  .filter(([, modules]) => modules.length > 0)
  .map(([input, modules]) => `${input} (${modules.join(', ')})`)
const composition = [...parts].sort((a, b) => b[1] - a[1]).map(([part, bytes]) => [part, String(bytes), `${((bytes / total) * 100).toFixed(1)}%`])

console.log(`bench/bundle - node ${process.version}, esbuild ${esbuildVersion}: bundle, minify, format esm, platform browser, target es2022; gzip level ${GZIP_LEVEL}; ratios to socket.io-client's bundle of the same run`)
console.log()
printTable(['bundle', 'minified B', 'vs socket.io', 'gzip B', 'vs socket.io'], table, 1)
console.log()
console.log('The prebuilt bundle by source (minified bytes of each input in the output, before gzip):')
console.log()
printTable(['source', 'minified B', 'share'], composition, 1)
console.log()
console.log(`TypeBox is imported by ${typeboxImporters.join(', ')}.`)
