/**
 * Serves the example's page at `/`: the HTML, `/app.js` (the browser client and the page script,
 * bundled by esbuild, a development dependency, when the server starts) and the icon, at
 * `/favicon.svg` and at `/favicon.ico`, where browsers look when a page names none.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Patients offered by the page's picker (any other comes from `?patient=`). */
export const PATIENTS = ['demo', 'p1', 'p2', 'p3', 'p7']

/** The icon: a heartbeat on the page's green. */
export const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b1d13"/>' +
  '<path d="M2 18h8l3-9 5 16 3-7h9" fill="none" stroke="#39ff88" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/></svg>'

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wirebox ECG monitor</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<style>
  body { font-family: system-ui, sans-serif; background: #06120c; color: #d8ffe8; margin: 2rem; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1rem 2rem; }
  h2 { font-size: 1.2rem; font-weight: normal; margin: 0; }
  #patient { font-weight: bold; }
  select { font: inherit; background: #0b1d13; color: inherit; border: 1px solid #1f5c3a; }
  figure { margin: 1rem 0; }
  canvas { border: 1px solid #1f5c3a; width: 100%; max-width: 1000px; }
  figcaption { color: #7fcfa0; font-size: .85rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
  dt { color: #7fcfa0; }
</style>
</head>
<body>
<header>
<h1>ECG monitor <small>fastify-wirebox</small></h1>
<h2>Patient <span id="patient">…</span></h2>
<label>show patient <select id="patient-select">${PATIENTS.map((p) => `<option>${p}</option>`).join('')}</select></label>
</header>
<figure>
<canvas width="1000" height="320" aria-label="ECG trace: millivolts against seconds before now"></canvas>
<figcaption>Time in seconds before the newest sample (grid 0.04 s, bold 0.2 s); amplitude in millivolts
(grid 0.1 mV, bold 0.5 mV). A dashed amber line marks a gap: the samples on either side are not
consecutive (messages lost in a reconnection, a restarted server or stream), so the trace is not
joined across it, and the time between them is not on the axis. A dotted line marks where the
history ends and the live trace begins.</figcaption>
</figure>
<dl>
  <dt>connection</dt><dd id="state">connecting</dd>
  <dt>negotiated</dt><dd id="negotiated">…</dd>
  <dt>last batch</dt><dd id="seq">…</dd>
  <dt>gaps</dt><dd id="gaps">0</dd>
  <dt>traffic</dt><dd id="bytes">…</dd>
  <dt>last alert</dt><dd id="alert">none</dd>
</dl>
<script type="module" src="/app.js"></script>
</body>
</html>
`

/** Adds `/`, `/app.js`, `/favicon.svg` and `/favicon.ico` to the example server. */
export async function registerPage (app: FastifyInstance): Promise<void> {
  let bundle: string | undefined
  let problem: string | undefined
  try {
    const { build } = await import('esbuild')
    const result = await build({
      entryPoints: [new URL('./browser/app.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent'
    })
    bundle = result.outputFiles[0]?.text
  } catch (err) {
    problem = `The page needs esbuild (a development dependency): ${(err as Error).message}`
    app.log.warn(problem)
  }
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(HTML))
  const icon = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> =>
    await reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON)
  app.get('/favicon.svg', icon)
  app.get('/favicon.ico', icon)
  app.get('/app.js', async (_request, reply) => {
    if (bundle === undefined) return await reply.code(503).type('text/plain').send(problem)
    return await reply.type('text/javascript; charset=utf-8').send(bundle)
  })
}
