/**
 * The client in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is downloaded) against a real server. Skipped, with the reason
 * printed, where Chromium is not installed (.ci/run installs it).
 */
import { test } from 'tap'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { buildServer } from '../example/server.js'
import { listen, shutdown } from './plugin/test-client.js'
import { launch, missing } from './chromium.js'

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

/** The page's state (example/browser/app.ts, `window.__ecg`). */
interface EcgState {
  patient: string
  batches: number
  lastSeq: number
  lastPatientId: string
  gaps: number
  gapsDrawn: number
  lostMessages: number
  axes: { seconds: string[], millivolts: string[] }
}

async function ecg (page: Page): Promise<EcgState> {
  return await page.evaluate(() => ({ ...(window as unknown as { __ecg: EcgState }).__ecg }))
}

async function until (page: Page, what: (state: EcgState, arg: number) => boolean, arg = 0): Promise<void> {
  await page.waitForFunction(`(${what.toString()})(window.__ecg ?? { batches: 0 }, ${arg})`, undefined, { timeout: 15_000 })
}

test('the example page shows the patient, the live trace on labelled axes, the negotiation and the bytes saved', { skip: missing ?? false }, async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = (await listen(app)).replace('ws:', 'http:')
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const page = await browser.newPage()
  const problems: string[] = []
  const notFound: string[] = []
  page.on('pageerror', (e) => problems.push(e.message))
  const consoleErrors: string[] = []
  page.on('response', (r) => { if (r.status() === 404) notFound.push(r.url()) })
  // The browser's own favicon request is no page response: a 404 there shows only on the console.
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
  await page.goto(`${base}/`)
  await until(page, (s) => s.batches >= 3)
  const first = { ...await ecg(page), image: await page.evaluate(() => (document.querySelector('canvas') as HTMLCanvasElement).toDataURL()) }
  await until(page, (s, seq) => s.lastSeq >= seq + 5, first.lastSeq)
  const later = { ...await ecg(page), image: await page.evaluate(() => (document.querySelector('canvas') as HTMLCanvasElement).toDataURL()) }
  t.ok(later.lastSeq > first.lastSeq, 'new batches arrive')
  t.not(later.image, first.image, 'the trace moves')
  t.equal(await page.textContent('#patient'), 'demo', 'the patient is named')
  t.equal(await page.inputValue('#patient-select'), 'demo', 'and picked in the selector')
  t.equal(later.lastPatientId, 'demo', 'the trace is that patient\'s')
  t.same(later.axes, { seconds: ['−3 s', '−2 s', '−1 s', '0 s'], millivolts: ['−0.5', '0', '0.5', '1.0', '1.5'] }, 'the time axis and the millivolt scale are labelled')
  t.equal(await page.getAttribute('canvas', 'data-seconds'), '−3 s|−2 s|−1 s|0 s')
  t.equal(await page.getAttribute('canvas', 'data-millivolts'), '−0.5|0|0.5|1.0|1.5')
  t.equal(later.gaps, 0, 'no gap while the connection holds')
  t.equal(await page.textContent('#gaps'), '0')
  t.match(await page.textContent('#negotiated'), /msgpack-compact, protocol v3, gzip/)
  t.match(await page.textContent('#bytes'), /^[\d,]+ bytes on the wire \([\d,]+ decoded\), \d+% (less|more) than JSON$/)
  t.equal(await page.textContent('#state'), 'open')
  t.same(problems, [], 'no errors on the page')

  const icon = await page.getAttribute('link[rel=icon]', 'href')
  t.equal(icon, '/favicon.svg', 'the page names its icon')
  for (const path of [icon ?? '', '/favicon.ico']) {
    const response = await page.request.get(`${base}${path}`)
    t.equal(response.status(), 200, `${path} is served`)
    t.equal(response.headers()['content-type'], 'image/svg+xml', `${path} is an SVG`)
    t.match(await response.text(), /^<svg /)
  }
  t.same(notFound, [], 'no request of the page got a 404')
  t.same(consoleErrors, [], 'no error on the console (a missing icon would be one)')
  await page.screenshot({ path: 'test/browser-example.png' }).catch(() => {})
})

test('the example page shows the patient of ?patient= and switches to the one picked', { skip: missing ?? false }, async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = (await listen(app)).replace('ws:', 'http:')
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`${base}/?patient=ward-9`)
  await until(page, (s) => s.batches >= 2)
  t.equal(await page.textContent('#patient'), 'ward-9')
  t.equal(await page.inputValue('#patient-select'), 'ward-9', 'a patient from the URL joins the selector')
  t.equal((await ecg(page)).lastPatientId, 'ward-9')

  await page.selectOption('#patient-select', 'p2')
  await until(page, (s) => s.lastPatientId === 'p2' && s.batches >= 2)
  t.equal(await page.textContent('#patient'), 'p2', 'the heading names the new patient')
  t.equal(new URL(page.url()).search, '?patient=p2', 'the URL too')
  t.match(await page.title(), /^p2: /)
  const afterSwitch = await ecg(page)
  await until(page, (s, n) => s.batches >= n + 5, afterSwitch.batches)
  t.equal((await ecg(page)).lastPatientId, 'p2', 'only the new patient\'s batches are drawn')
  t.equal((await ecg(page)).gaps, 0, 'switching is not a gap')
  t.same(problems, [], 'no errors on the page')
})

test('the example page marks a gap in the trace when the server restarts', { skip: missing ?? false }, async (t) => {
  let app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const ws = await listen(app)
  const port = Number(new URL(ws).port)
  const browser = await launch()
  t.teardown(async () => { await browser.close(); await shutdown(app) })
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`${ws.replace('ws:', 'http:')}/`)
  await until(page, (s) => s.batches >= 5)
  const before = await ecg(page)
  t.equal(before.gaps, 0, 'no gap before the restart')

  await shutdown(app)
  app = await buildServer({ logger: false, batchIntervalMs: 50 })
  await app.listen({ host: '127.0.0.1', port })
  await until(page, (s) => s.gaps >= 1)
  const after = await ecg(page)
  await until(page, (s, n) => s.batches >= n + 3, after.batches)
  const last = await ecg(page)
  t.equal(last.gaps, 1, 'one gap recorded')
  t.ok(last.gapsDrawn >= 1, 'and drawn on the trace')
  t.equal(await page.getAttribute('canvas', 'data-gaps-drawn'), String(last.gapsDrawn))
  t.match(await page.textContent('#gaps'), /^1 \(last: stream restarted \(seq \d+ → 1\)\)$/, 'the page says what the gap is')
  t.ok(last.batches >= after.batches + 3, 'the trace goes on after the gap')
  t.equal(await page.textContent('#state'), 'open')
  t.same(problems, [], 'no errors on the page')
})
