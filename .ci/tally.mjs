// Counts the top-level test points of every file tap ran (tap keeps each file's raw TAP output
// in .tap/test-results) and prints "N passed, M failed". A run that failed before any test
// (lint, type check, install) counts as one failure.
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const status = Number(process.argv[2] ?? 1)
const dir = '.tap/test-results'
let passed = 0
let failed = 0
const walk = (d) => {
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const path = join(d, entry.name)
    if (entry.isDirectory()) walk(path)
    else if (entry.name.endsWith('.tap')) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (/^ok \d+/.test(line) && !/# SKIP/i.test(line)) passed++
        else if (/^not ok \d+/.test(line)) failed++
      }
    }
  }
}
if (existsSync(dir)) walk(dir)
if (status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed`)
