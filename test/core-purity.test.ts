/**
 * The core is pure: it bundles for the browser with no `node:` module and no Fastify, so the
 * browser client can share it.
 */
import { test } from 'tap'
import { build } from 'esbuild'

test('lib/core and the web platform bundle for the browser without node: modules or Fastify', async (t) => {
  const result = await build({
    stdin: {
      contents: "export * from './lib/core/index.js'; export { webPlatform } from './lib/platform/web.js'",
      resolveDir: new URL('..', import.meta.url).pathname,
      loader: 'ts'
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  const inputs = Object.keys(result.metafile.inputs)
  t.ok(inputs.some((i) => i.includes('msgpackr')), 'msgpackr is bundled')
  t.same(inputs.filter((i) => i.startsWith('node:') || /\/(fastify|@fastify)\//.test(i)), [], 'no node: module, no Fastify')
  const bundle = result.outputFiles[0]?.text ?? ''
  t.notMatch(bundle, /from\s*["']node:/, 'no node: import left in the bundle')
  // A guard against something large slipping in; bench/bundle.ts measures the minified, gzipped size.
  t.ok(bundle.length < 450_000, `bundle is ${Math.round(bundle.length / 1024)} KiB unminified`)
})
