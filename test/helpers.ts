/** Test helpers: hand-built frames (no library code), catalog-error assertions, waiting for a condition. */
import type { Test } from 'tap'
import { crc32 } from '../lib/platform/node.js'
import { isWireboxError } from '../lib/errors.js'

/** Fields of a hand-built frame; any field can lie. */
export interface RawFrame {
  version: number
  type: number
  flags?: number
  payload?: Uint8Array
  /** Overrides the length field. */
  length?: number
  /** Overrides the checksum field. */
  checksum?: number
  timestamp?: bigint
  /** Header size to write (default by version: 19 for 3, else 11). */
  headerSize?: number
}

/** Builds frame bytes by hand with Buffer writes. */
export function rawFrame (f: RawFrame): Buffer {
  const payload = Buffer.from(f.payload ?? new Uint8Array(0))
  const size = f.headerSize ?? (f.version === 3 ? 19 : 11)
  const header = Buffer.alloc(size)
  header.writeUInt8(f.version, 0)
  header.writeUInt8(f.type, 1)
  header.writeUInt8(f.flags ?? 0, 2)
  header.writeUInt32BE(f.length ?? payload.length, 3)
  header.writeUInt32BE(f.checksum ?? crc32(payload), 7)
  if (size >= 19) header.writeBigUInt64BE(f.timestamp ?? 0n, 11)
  return Buffer.concat([header, payload])
}

/** Asserts that `fn` throws or rejects with the catalog error `code`; returns the error. */
export async function rejectsWith (t: Test, fn: () => unknown, code: string, wireCode?: number): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    t.ok(isWireboxError(err), `a catalog error (${String((err as Error).message)})`)
    t.equal((err as { code?: string }).code, code)
    if (wireCode !== undefined) t.equal((err as { wireCode?: number }).wireCode, wireCode)
    return err
  }
  t.fail(`expected ${code}, nothing was thrown`)
  return undefined
}

/** Resolves once `check()` holds; rejects after `ms` (default 5000). */
export async function until (check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
