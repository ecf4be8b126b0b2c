/**
 * Builds the prebuilt browser client, `dist/browser/wirebox-client.js` (`fastify-wirebox/client/bundle`):
 * lib/client/browser.ts bundled by esbuild as one minified ES module for browsers, with a banner
 * naming the packages bundled in it and their licenses. Run by `npm run build`; bench/bundle.ts
 * and test/browser-bundle.test.ts build with the same options.
 *
 * Run: tsx scripts/build-browser.ts [outfile]
 */
import { build } from 'esbuild'
import type { BuildOptions, Metafile } from 'esbuild'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Where `npm run build` writes the bundle (the target of the `./client/bundle` export). */
export const OUTFILE = join(ROOT, 'dist', 'browser', 'wirebox-client.js')

/** How every browser bundle here is built: one minified ES module for browsers, ES2022. */
export const BROWSER_BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  metafile: true,
  logLevel: 'silent'
} as const satisfies BuildOptions

/** The packages (from node_modules) whose code is in a bundle, with their versions and licenses. */
export function bundledPackages (metafile: Metafile): Array<{ name: string, version: string, license: string }> {
  const names = new Set<string>()
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
      if (match !== null && bytesInOutput > 0) names.add(match[1] as string)
    }
  }
  return [...names].sort().map((name) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string, license?: string }
    return { name, version: manifest.version, license: manifest.license ?? 'see its package' }
  })
}

/** Builds the browser client into `outfile`; returns its size and what it bundles. */
export async function buildBrowserBundle (outfile = OUTFILE): Promise<{ outfile: string, bytes: number, metafile: Metafile }> {
  const result = await build({ ...BROWSER_BUNDLE_OPTIONS, entryPoints: [join(ROOT, 'lib', 'client', 'browser.ts')], absWorkingDir: ROOT })
  const code = result.outputFiles[0]?.text
  if (code === undefined) throw new Error('esbuild wrote no output')
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const bundled = bundledPackages(result.metafile).map((p) => `${p.name} ${p.version} (${p.license})`).join(', ')
  const text = `/*! fastify-wirebox ${version} browser client (MIT); bundles ${bundled} */\n${code}`
  mkdirSync(dirname(outfile), { recursive: true })
  writeFileSync(outfile, text)
  return { outfile, bytes: Buffer.byteLength(text), metafile: result.metafile }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { outfile, bytes } = await buildBrowserBundle(process.argv[2] ?? OUTFILE)
  console.log(`${outfile}: ${bytes} bytes`)
}
