#!/usr/bin/env node
// The `wirebox` command: the compiled CLI when the package is built, else the TypeScript
// sources through tsx (a development checkout).
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/lib/cli/main.js', import.meta.url)
let main
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href))
} else {
  const { tsImport } = await import('tsx/esm/api')
  ;({ main } = await tsImport(new URL('../lib/cli/main.ts', import.meta.url).href, import.meta.url))
}
const code = await main(process.argv.slice(2))
// A module that `schema` loaded may have started a server or timers: exit once the output is
// written instead of waiting for the event loop to empty.
let open = 2
const done = () => { if (--open === 0) process.exit(code) }
process.stdout.write('', done)
process.stderr.write('', done)
