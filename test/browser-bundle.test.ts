/**
 * The prebuilt browser client (`fastify-wirebox/client/bundle`, built by scripts/build-browser.ts
 * during `npm run build`): what it bundles, where package.json points, and that it works as an
 * ES module in Chromium against the example server. Built into a temporary folder, never into
 * the dist/ other tests pack.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { build } from 'esbuild'
import { BROWSER_BUNDLE_OPTIONS, buildBrowserBundle, bundledPackages, OUTFILE, ROOT } from '../scripts/build-browser.js'
import { buildServer } from '../example/server.js'
import { listen, shutdown } from './plugin/test-client.js'
import { launch, missing } from './chromium.js'

interface Manifest {
  version: string
  files: string[]
  exports: Record<string, unknown>
  dependencies: Record<string, string>
  scripts: Record<string, string>
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest

const work = mkdtempSync(join(tmpdir(), 'wirebox-bundle-'))
const built = await buildBrowserBundle(join(work, 'wirebox-client.js'))
const code = readFileSync(built.outfile, 'utf8')
t.teardown(() => rmSync(work, { recursive: true, force: true }))

t.test('package.json exports the bundle that npm run build writes, and ships it', async (t) => {
  const target = `./${relative(ROOT, OUTFILE)}`
  t.equal(target, './dist/browser/wirebox-client.js')
  t.same(manifest.exports['./client/bundle'], { types: './dist/lib/client/browser.d.ts', default: target }, 'fastify-wirebox/client/bundle, typed as the browser client')
  t.ok(manifest.files.some((entry) => target.slice(2) === entry || target.slice(2).startsWith(`${entry}/`)), `${target} is among the files shipped`)
  t.match(manifest.scripts.build, /&& tsx scripts\/build-browser\.ts$/, 'npm run build writes it')
})

t.test('the bundle is one minified ES module with no node: module and no server code', async (t) => {
  const inputs = Object.keys(built.metafile.inputs)
  t.same(inputs.filter((i) => i.startsWith('node:') || /node_modules\/(fastify|@fastify|ws|ioredis)\//.test(i)), [], 'no node: module, no Fastify, ws or ioredis')
  t.ok(inputs.includes('lib/client/browser.ts'), 'built from lib/client/browser.ts')
  const plain = await build({ ...BROWSER_BUNDLE_OPTIONS, minify: false, entryPoints: [join(ROOT, 'lib', 'client', 'browser.ts')], absWorkingDir: ROOT })
  const plainBytes = plain.outputFiles[0]?.contents.length ?? 0
  t.ok(code.length < 0.6 * plainBytes, `minified: ${code.length} bytes, ${plainBytes} unminified`)
  t.match(code, /export\{[^}]*\bcreateClient\b[^}]*\}/, 'an ES module exporting createClient')
  for (const name of ['WireboxClient', 'WireboxRemoteError', 'errors', 'isWireboxError']) t.match(code, new RegExp(`export\\{[^}]*\\bas ${name}\\b`), `and ${name}`)
  const packages = bundledPackages(built.metafile)
  t.ok(packages.length > 0, 'it bundles packages from node_modules')
  for (const p of packages) t.ok(Object.hasOwn(manifest.dependencies, p.name), `${p.name}, bundled, is a dependency of the package (not a devDependency)`)
  t.ok(code.startsWith(`/*! fastify-wirebox ${manifest.version} browser client (MIT); bundles ${packages.map((p) => `${p.name} ${p.version} (${p.license})`).join(', ')} */\n`), 'the banner names every bundled package and its license')
})

t.test('the bundle holds no schema compiler: validation is opt-in, the envelope and option checks are hand-written', async (t) => {
  const typebox = Object.entries(built.metafile.outputs).flatMap(([, o]) => Object.entries(o.inputs))
    .filter(([input, { bytesInOutput }]) => bytesInOutput > 0 && input.includes('@sinclair/typebox/') && !input.endsWith('/type/symbols/symbols.mjs'))
  t.same(typebox.map(([input]) => input), [], 'no TypeBox but its Kind symbol')
  t.notMatch(code, /TypeCompiler|\beval\(/, 'no compiler in the code')
  // msgpackr compiles readers only for its records, which the codec turns off (useRecords: false).
  const compiled = code.match(/new Function\(.{0,40}/g) ?? []
  t.ok(compiled.every((call) => call.includes('"return function(){return "')), `no new Function but msgpackr's record reader: ${compiled.join(', ')}`)
})

t.test('the bundle, imported as a module in Chromium under script-src \'self\', negotiates, requests and subscribes', { skip: missing ?? false }, async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  // The bundle as a user's page would load it, from the server of the WebSocket route, under a
  // Content-Security-Policy without 'unsafe-eval' (nothing in the bundle compiles code as it loads).
  app.get('/bundle-test.html', async (_request, reply) => await reply.type('text/html').header('content-security-policy', "script-src 'self'").send('<!doctype html><title>bundle</title>'))
  app.get('/vendor/wirebox-client.js', async (_request, reply) => await reply.type('text/javascript').send(code))
  const base = (await listen(app)).replace('ws:', 'http:')
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`${base}/bundle-test.html`)
  const result = await page.evaluate(async ({ src, url }) => {
    const wirebox = await import(src) as { createClient: (u: string, o: object) => any, errors: Record<string, unknown>, WireboxRemoteError: unknown }
    const client = wirebox.createClient(url, { encoding: 'messagepack', compression: 'gzip' })
    const negotiation = await client.ready()
    const history = await client.request('ecg.history', { patient_id: 'bundle', samples: 3000 })
    const remote = await client.request('ecg.history', { patient_id: 'bundle', samples: 0 }).then(() => undefined, (e: Error) => ({ name: e.name, isRemote: e instanceof (wirebox.WireboxRemoteError as new () => Error) }))
    const seqs: number[] = []
    const done = new Promise<void>((resolve) => client.on('ecg.data', (p: { seq: number }) => { if (seqs.push(p.seq) === 3) resolve() }))
    await client.subscribe('ecg/bundle')
    await done
    client.close()
    return { negotiation, samples: history.signal.length, remote, seqs, catalog: Object.keys(wirebox.errors).length }
  }, { src: '/vendor/wirebox-client.js', url: `${base.replace('http:', 'ws:')}/ws` })
  t.match(result.negotiation, { encoding: 'messagepack', version: 3, compression: 'gzip' })
  t.equal(result.samples, 3000, 'a request answered (compressed: 3000 samples)')
  t.same(result.remote, { name: 'WireboxRemoteError', isRemote: true }, 'a refused payload rejects with the exported WireboxRemoteError')
  t.equal(result.seqs.length, 3)
  t.ok(result.seqs.every((seq, i) => i === 0 || seq === (result.seqs[i - 1] as number) + 1), 'consecutive batches of the subscribed topic')
  t.ok(result.catalog > 10, 'the error catalog is exported')
  t.same(problems, [], 'no errors on the page')
})
