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
process.exitCode = await main(process.argv.slice(2))
