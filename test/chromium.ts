/**
 * Headless Chromium for the browser tests: Debian's `chromium` (or CHROMIUM_PATH), driven by
 * playwright-core; no browser is downloaded. Where it is missing, `missing` says why and the
 * tests that need it are skipped with that reason (.ci/run installs it).
 */
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Why the browser tests are skipped, or undefined when Chromium is there. */
export const missing = existsSync(executablePath) ? undefined : `Chromium not found at ${executablePath} (install Debian's chromium package, or set CHROMIUM_PATH): the browser test is skipped`
if (missing !== undefined) console.error(`\n*** ${missing} ***\n`)

/** Launches headless Chromium, quiet: no GPU, no QUIC, no background traffic. */
export async function launch (): Promise<Browser> {
  return await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}
