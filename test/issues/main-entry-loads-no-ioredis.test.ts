/**
 * Regression (issue 13): the main entry loaded ioredis eagerly (~150 ms of imports for apps
 * without Redis). The Redis broker is its own entry, `fastify-wirebox/redis`.
 */
import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

// Imports one entry in a fresh Node process, then lists the loaded files of the ioredis package
// (a CommonJS package: every file of it that was loaded, from ESM or CJS, is in require.cache).
const probe = `
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
await import(pathToFileURL(process.argv[1]).href)
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /[\\\\/]node_modules[\\\\/]ioredis[\\\\/]/.test(path))
process.stdout.write(JSON.stringify(loaded))
`

async function ioredisFilesLoadedBy (entry: string): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe, entry], { cwd: root }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout) as string[])
    })
  })
}

test('importing the main entry loads no ioredis; the redis entry does', async (t) => {
  t.same(await ioredisFilesLoadedBy('lib/index.ts'), [], 'fastify-wirebox: no ioredis module loaded')
  const redisEntry = await ioredisFilesLoadedBy('lib/redis.ts')
  t.ok(redisEntry.length > 0, `fastify-wirebox/redis loads ioredis (${redisEntry.length} files): the probe sees it`)
  const { redisBroker } = await import('../../lib/redis.js')
  t.equal(typeof redisBroker, 'function', 'lib/redis.ts exports redisBroker')
})

test('package.json exports fastify-wirebox/redis like the other entries', async (t) => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> }
  t.same(manifest.exports['./redis'], { types: './dist/lib/redis.d.ts', default: './dist/lib/redis.js' })
})
