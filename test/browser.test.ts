/**
 * The client in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is downloaded) against a real server. Skipped, with the reason
 * printed, where Chromium is not installed (.ci/run installs it).
 */
import { test } from 'tap'
import { existsSync } from 'node:fs'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { buildServer } from '../example/server.js'
import { listen, shutdown } from './plugin/test-client.js'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const missing = existsSync(executablePath) ? undefined : `Chromium not found at ${executablePath} (install Debian's chromium package, or set CHROMIUM_PATH): the browser test is skipped`
if (missing !== undefined) console.error(`\n*** ${missing} ***\n`)

async function launch (): Promise<Browser> {
  return await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

test('the bundled client does a request and receives subscribed events in MessagePack with gzip', { skip: missing ?? false }, async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = await listen(app)
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const bundle = await build({
    stdin: { contents: "export { createClient } from './lib/client/browser.js'", resolveDir: new URL('..', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'wirebox',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  t.same(Object.keys(bundle.metafile.inputs).filter((i) => i.startsWith('node:') || i.includes('/fastify/')), [], 'no node: module, no Fastify in the browser bundle')
  const page = await browser.newPage()
  await page.goto(base.replace('ws:', 'http:') + '/metrics')
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' })
  const result = await page.evaluate(async (url) => {
    const w = (globalThis as unknown as { wirebox: { createClient: (u: string, o: object) => any } }).wirebox
    const client = w.createClient(url, { encoding: 'messagepack', compression: 'gzip' })
    const negotiation = await client.ready()
    const history = await client.request('ecg.history', { patient_id: 'browser', samples: 5000 })
    const events: Array<{ seq: number, samples: number }> = []
    const done = new Promise<void>((resolve) => client.on('ecg.data', (p: { seq: number, signal: number[] }) => {
      events.push({ seq: p.seq, samples: p.signal.length })
      if (events.length === 5) resolve()
    }))
    const ack = await client.subscribe('ecg/browser')
    await done
    const stats = { ...client.stats }
    client.close()
    return { negotiation, historyLength: history.signal.length, events, ack, stats, hasDecompressionStream: typeof DecompressionStream === 'function' }
  }, `${base}/ws`)
  t.match(result.negotiation, { encoding: 'messagepack', version: 3, compression: 'gzip' })
  t.equal(result.historyLength, 5000, 'the request was answered')
  t.ok(result.stats.bodyBytesIn > 2 * result.stats.wireBytesIn, `gzip inflated in the browser: ${result.stats.wireBytesIn} wire bytes, ${result.stats.bodyBytesIn} decoded`)
  t.equal(result.ack.topic, 'ecg/browser')
  t.equal(result.events.length, 5)
  t.ok(result.events.every((e, i) => e.samples === 25 && (i === 0 || e.seq === (result.events[i - 1]?.seq ?? 0) + 1)), 'five consecutive batches of 25 samples')
})

test('the example page shows the live trace, the negotiation and the bytes saved', { skip: missing ?? false }, async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = (await listen(app)).replace('ws:', 'http:')
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`${base}/`)
  await page.waitForFunction(() => ((window as unknown as { __ecg?: { batches: number } }).__ecg?.batches ?? 0) >= 3, undefined, { timeout: 10_000 })
  const first = await page.evaluate(() => ({ ...(window as unknown as { __ecg: { lastSeq: number } }).__ecg, image: (document.querySelector('canvas') as HTMLCanvasElement).toDataURL() }))
  await page.waitForFunction((seq) => (window as unknown as { __ecg: { lastSeq: number } }).__ecg.lastSeq >= seq + 5, first.lastSeq, { timeout: 10_000 })
  const later = await page.evaluate(() => ({ ...(window as unknown as { __ecg: { lastSeq: number } }).__ecg, image: (document.querySelector('canvas') as HTMLCanvasElement).toDataURL() }))
  t.ok(later.lastSeq > first.lastSeq, 'new batches arrive')
  t.not(later.image, first.image, 'the trace moves')
  t.match(await page.textContent('#negotiated'), /messagepack, protocol v3, gzip/)
  t.match(await page.textContent('#bytes'), /bytes on the wire .*% less than JSON/)
  t.equal(await page.textContent('#state'), 'open')
  t.same(problems, [], 'no errors on the page')
  await page.screenshot({ path: 'test/browser-example.png' }).catch(() => {})
})
