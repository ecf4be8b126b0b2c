/**
 * Serves the example's page at `/`: the HTML, and `/app.js`, the browser client and the page
 * script bundled by esbuild (a development dependency) when the server starts.
 */
import type { FastifyInstance } from 'fastify'

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wirebox ECG monitor</title>
<style>
  body { font-family: system-ui, sans-serif; background: #06120c; color: #d8ffe8; margin: 2rem; }
  canvas { border: 1px solid #1f5c3a; width: 100%; max-width: 1000px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
  dt { color: #7fcfa0; }
</style>
</head>
<body>
<h1>ECG monitor <small>fastify-wirebox</small></h1>
<canvas width="1000" height="300"></canvas>
<dl>
  <dt>connection</dt><dd id="state">connecting</dd>
  <dt>negotiated</dt><dd id="negotiated">…</dd>
  <dt>last batch</dt><dd id="seq">…</dd>
  <dt>traffic</dt><dd id="bytes">…</dd>
  <dt>last alert</dt><dd id="alert">none</dd>
</dl>
<script type="module" src="/app.js"></script>
</body>
</html>
`

/** Adds `/` and `/app.js` to the example server. */
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
  app.get('/app.js', async (_request, reply) => {
    if (bundle === undefined) return await reply.code(503).type('text/plain').send(problem)
    return await reply.type('text/javascript; charset=utf-8').send(bundle)
  })
}
