/**
 * The core is pure: it bundles for the browser with no `node:` module and no Fastify, so the
 * browser client can share it; what the client uses of it bundles without TypeBox.
 */
import { test } from 'tap'
import { build } from 'esbuild'
import type { BuildResult } from 'esbuild'

/** Bundles `contents` (module source at the project root) for the browser, in memory. */
async function browserBundle (contents: string): Promise<BuildResult<{ write: false, metafile: true }>> {
  return await build({
    stdin: { contents, resolveDir: new URL('..', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
}

test('lib/core and the web platform bundle for the browser without node: modules or Fastify', async (t) => {
  const result = await browserBundle("export * from './lib/core/index.js'; export { webPlatform } from './lib/platform/web.js'")
  const inputs = Object.keys(result.metafile.inputs)
  t.ok(inputs.some((i) => i.includes('msgpackr')), 'msgpackr is bundled')
  t.same(inputs.filter((i) => i.startsWith('node:') || /\/(fastify|@fastify)\//.test(i)), [], 'no node: module, no Fastify')
  const bundle = result.outputFiles[0]?.text ?? ''
  t.notMatch(bundle, /from\s*["']node:/, 'no node: import left in the bundle')
})

test('the encoder and decoder bundle without TypeBox: their envelope and option checks are written by hand', async (t) => {
  const result = await browserBundle("export { MessageEncoder, MessageDecoder } from './lib/core/wire.js'; export { webPlatform } from './lib/platform/web.js'")
  const bundled = Object.entries(result.metafile.outputs).flatMap(([, o]) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name))
  t.ok(bundled.includes('lib/core/envelope.ts') && bundled.includes('lib/core/options.ts'), 'the checks are bundled')
  // TypeBox's Kind symbol (Symbol.for('TypeBox.Kind'), read by the msgpack-compact nodes) is all that may come from it.
  t.same(bundled.filter((i) => i.includes('@sinclair/typebox/') && !i.endsWith('/type/symbols/symbols.mjs')), [], 'nothing else of TypeBox')
  const text = result.outputFiles[0]?.text ?? ''
  t.notMatch(text, /TypeCompiler|\beval\(/, 'no schema compiler')
  // msgpackr compiles readers only for its records, which the codec turns off (useRecords: false).
  const compiled = text.match(/new Function\(.{0,40}/g) ?? []
  t.ok(compiled.every((call) => call.includes('"return function(){return "')), `no code compiled at run time but msgpackr's record reader: ${compiled.join(', ')}`)
})
