/**
 * The package as a user gets it (issue 13): `npm pack` (which builds), the tarball installed into
 * a fresh project, the README's server and client type-checked there with `strict` and without
 * `skipLibCheck`, compiled and run. Its public types must resolve with the package's own
 * dependencies (dist/lib/connection.d.ts imports `ws`, whose types are @types/ws).
 *
 * The build runs on a copy of the sources, so that this test never rewrites the dist/ that
 * bin/wirebox.js (and so test/cli.test.ts) may be reading. Installing tries the npm cache alone
 * first (npm ci filled it), then lets npm ask the registry for what the cache lacks.
 */
import tap, { test } from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// About 40 s alone (a build, an install, two type-checks); a busy machine can double it.
tap.setTimeout(240_000)

const repo = new URL('..', import.meta.url).pathname
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** The environment without what `npm test` sets for the repository (its prefix above all). */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
  !/^npm_/i.test(key) || /^npm_config_(cache|userconfig|globalconfig|cafile|registry|https?_proxy|proxy|noproxy)$/i.test(key)))
delete env.INIT_CWD

interface Run { code: number, stdout: string, stderr: string, seconds: number }

function run (file: string, args: string[], cwd: string): Promise<Run> {
  const start = performance.now()
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const seconds = Math.round((performance.now() - start) / 100) / 10
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr, seconds })
    })
  })
}

const installed = (name: string): string =>
  (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

// The README's plugin, client and Prometheus samples, trimmed to one file that serves and asks.
const APP = `import { createRequire } from 'node:module'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol, NdArray, isWireboxError } from 'fastify-wirebox'
import { MessageDecoder, MessageType } from 'fastify-wirebox/core'
import { createClient } from 'fastify-wirebox/client'

// prom-client is an optional peer dependency: only fastify-wirebox/prometheus loads it.
const promClientLoaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/prom-client/'))
const { Registry } = await import('prom-client')
const { default: wireboxMetrics } = await import('fastify-wirebox/prometheus')

export const protocol = defineProtocol({
  serverToClient: {
    'ecg.data': Type.Object({ patient_id: Type.String(), seq: Type.Integer(), signal: NdArray('float32') })
  },
  clientToServer: {
    'anomaly.seen': Type.Object({ patient_id: Type.String(), seq: Type.Integer() })
  },
  requests: {
    'ecg.history': {
      payload: Type.Object({ patient_id: Type.String(), samples: Type.Integer({ minimum: 1 }) }),
      response: Type.Object({ patient_id: Type.String(), signal: Type.Array(Type.Number()) })
    }
  }
})

const app = Fastify()
await app.register(wirebox, { maxMessageSize: 16 * 1024 * 1024 })
const registry = new Registry()
await app.register(wireboxMetrics, { registry })
const seen: number[] = []
const ecg = app.wirebox('/ws', {
  protocol,
  compression: { threshold: 2048 },
  handle: { 'ecg.history': async ({ patient_id, samples }) => ({ patient_id, signal: Array.from({ length: samples }, (_, i) => i / 2) }) },
  on: { 'anomaly.seen': ({ seq }) => { seen.push(seq) } }
}, async (conn, request) => {
  if (request.query === undefined) conn.close()
})
const address = await app.listen({ host: '127.0.0.1', port: 0 })

const client = createClient<typeof protocol>(address.replace('http', 'ws') + '/ws', { encoding: 'messagepack', compression: 'gzip' })
const { patient_id, signal } = await client.request('ecg.history', { patient_id: 'p1', samples: 4 })
const total: number = signal.reduce((sum, x) => sum + x, 0)
await client.send('anomaly.seen', { patient_id: 'p1', seq: 42 }, { ack: true })
const { seq } = await ecg.publish('ecg/p1', 'ecg.data', { patient_id: 'p1', seq: 1, signal: new Float32Array(2) })
const core = typeof MessageDecoder === 'function' && MessageType.EVENT === 1 && !isWireboxError(new Error('x'))
const received = await registry.getSingleMetric('wirebox_messages_received_total')?.get()
const requests = received?.values.find((v) => v.labels.type === 'REQUEST')?.value
console.log(JSON.stringify({ patient_id, signal, total, seen, seq, core, promClientLoaded, requests }))

export function wrongPayload (): void {
  // @ts-expect-error samples is an integer: requests are typed from the protocol
  void client.request('ecg.history', { patient_id: 'p1', samples: 'four' })
  // @ts-expect-error the server sends ecg.data: events have a direction
  void client.send('ecg.data', { patient_id: 'p1', seq: 1, signal: new Float32Array(2) })
}

client.close()
await app.close()
`

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out' },
  files: ['app.ts']
}

test('the packed tarball installs, type-checks strictly without skipLibCheck, and runs', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'wirebox-package-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))

  const src = join(work, 'src')
  cpSync(repo, src, {
    recursive: true,
    filter: (path) => !/\/(node_modules|dist|\.git|\.tap|coverage)$/.test(path)
  })
  symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'), 'dir')
  const pack = await run(npm, ['pack', '--json', '--pack-destination', work], src)
  t.equal(pack.code, 0, 'npm pack (with its build) succeeds')
  if (pack.code !== 0) {
    t.comment(pack.stderr)
    return
  }
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[/m))) as Array<{ filename: string, size: number, files: Array<{ path: string }> }>
  const files = new Set(packed?.files.map((f) => f.path))
  t.ok(files.has('LICENSE'), 'LICENSE is shipped')
  t.notOk([...files].some((f) => f.endsWith('.map')), 'no source maps (their sources are not shipped)')
  t.notOk([...files].some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources')
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
  const targets = JSON.stringify(manifest.exports).match(/\.\/dist\/[^"]+/g) ?? []
  for (const target of targets) t.ok(files.has(target.slice(2)), `${target} is shipped`)
  t.comment(`npm pack: ${pack.seconds} s; ${packed?.filename}: ${packed?.size} bytes, ${files.size} files`)

  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG))
  writeFileSync(join(app, 'app.ts'), APP)
  const specs = [join(work, packed?.filename ?? ''), `fastify@${installed('fastify')}`, `@sinclair/typebox@${installed('@sinclair/typebox')}`,
    `@types/node@${installed('@types/node')}`, `prom-client@${installed('prom-client')}`]
  const flags = ['--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', '--prefix', app]
  let mode = '--offline'
  let install = await run(npm, ['install', ...specs, ...flags, mode], app)
  if (install.code !== 0) {
    mode = '--prefer-offline'
    install = await run(npm, ['install', ...specs, ...flags, mode], app)
  }
  t.equal(install.code, 0, 'npm install of the tarball succeeds')
  t.comment(`npm install ${mode}: ${install.seconds} s`)
  if (install.code !== 0) {
    t.comment(install.stderr)
    return
  }

  const tsc = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', app], app)
  t.equal(tsc.stdout + tsc.stderr, '', 'no type errors in the package or the sample')
  t.equal(tsc.code, 0, 'tsc succeeds')
  t.comment(`tsc: ${tsc.seconds} s`)

  const started = await run(process.execPath, [join(app, 'out/app.js')], app)
  t.equal(started.code, 0, `the sample runs${started.stderr === '' ? '' : `: ${started.stderr}`}`)
  t.same(JSON.parse(started.stdout.trim().split('\n').at(-1) ?? '{}'), { patient_id: 'p1', signal: [0, 0.5, 1, 1.5], total: 3, seen: [42], seq: 1, core: true, promClientLoaded: false, requests: 1 },
    'the client gets its response, its event is handled, a typed publish goes out; prom-client is loaded only by fastify-wirebox/prometheus, which counted the request')
})
