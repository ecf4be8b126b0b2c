/**
 * bench/bundle: what the browser client costs a page. The prebuilt bundle
 * (dist/browser/wirebox-client.js, built by scripts/build-browser.ts) and a user's bundle of
 * `createClient`, minified and gzipped, against socket.io-client's (a user's bundle of `io`), built
 * in the same run by esbuild with the same options, as ratios; then a user's bundle with payload
 * validation opted in (`fastify-wirebox/client/validate`, which brings TypeBox's compiler). Then
 * what the prebuilt bundle is made of.
 *
 * Run: npm run bench   (or: tsx bench/bundle.ts)
 */
import { build, version as esbuildVersion } from 'esbuild'
import type { Metafile } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { printTable } from './table.js'
import { BROWSER_BUNDLE_OPTIONS, buildBrowserBundle, ROOT } from '../scripts/build-browser.js'

const GZIP_LEVEL = 9

/** A user's bundle of `code` (an entry module in the repository's root), built as the prebuilt client is. */
async function userBundle (code: string): Promise<{ bytes: Uint8Array, metafile: Metafile }> {
  const result = await build({ ...BROWSER_BUNDLE_OPTIONS, stdin: { contents: code, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' }, absWorkingDir: ROOT })
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
const withValidation = await userBundle("export { createClient } from './lib/client/browser.js'; export { validatePayload } from './lib/client/validate.js'")
if (inputsOf(socketIo.metafile).every((i) => !i.includes('node_modules/engine.io-client/'))) throw new Error('the socket.io-client bundle has no engine.io-client: not the whole client')
if (inputsOf(withValidation.metafile).every((i) => !i.includes('node_modules/@sinclair/typebox/build/esm/compiler/'))) throw new Error('the variant with validation has no TypeBox compiler: not what validatePayload costs')

const version = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
const baseline = { min: socketIo.bytes.length, gzip: gzipSync(socketIo.bytes, { level: GZIP_LEVEL }).length }
const rows: Array<[string, Uint8Array]> = [
  [`socket.io-client ${version('socket.io-client')}: a user's bundle of { io } (baseline)`, socketIo.bytes],
  ['wirebox prebuilt bundle, dist/browser/wirebox-client.js (as shipped)', prebuiltBytes],
  ['wirebox, a user\'s bundle of { createClient }', createClientOnly.bytes],
  ['wirebox { createClient } with validation opted in ({ validatePayload })', withValidation.bytes]
]
const table = rows.map(([name, bytes]) => {
  const gzip = gzipSync(bytes, { level: GZIP_LEVEL }).length
  return [name, String(bytes.length), (bytes.length / baseline.min).toFixed(2), String(gzip), (gzip / baseline.gzip).toFixed(2)]
})

// What the prebuilt bundle is made of: minified bytes by package, by folder of this repository, or by file of lib/core/.
const parts = new Map<string, number>()
for (const output of Object.values(prebuilt.metafile.outputs)) {
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    const part = match !== null ? `${match[1] as string} ${version(match[1] as string)}` : input.replace(/^(lib\/core\/compact\/|lib\/(?!core\/)[^/]+\/|schemas\/).*$/, '$1').replace(/^lib\/[^/]+\.ts$/, 'lib/*.ts')
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
const prebuiltGzip = gzipSync(prebuiltBytes, { level: GZIP_LEVEL }).length
console.log(`The prebuilt bundle is ${prebuiltGzip - baseline.gzip} B gzipped ${prebuiltGzip > baseline.gzip ? 'above' : 'below'} socket.io-client's.`)
console.log(`TypeBox is imported by ${typeboxImporters.length === 0 ? 'nothing in it' : typeboxImporters.join(', ')}.`)
