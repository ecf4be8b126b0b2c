import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { CloseCode, errors, isWireboxError, WireCode } from '../lib/errors.js'

const LOCAL = new Set(['WIREBOX_ERR_INVALID_OPTION', 'WIREBOX_ERR_ACK_TIMEOUT', 'WIREBOX_ERR_ACK_UNSUPPORTED', 'WIREBOX_ERR_CONNECTION_CLOSED',
  'WIREBOX_ERR_ORIGIN_REJECTED', 'WIREBOX_ERR_TOO_MANY_CONNECTIONS', 'WIREBOX_ERR_SLOW_CONSUMER', 'WIREBOX_ERR_HEARTBEAT_TIMEOUT'])
const protocol = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8')

test('each catalog key equals its code, on the class and on instances', async (t) => {
  for (const [key, Entry] of Object.entries(errors)) {
    t.equal(Entry.code, key)
    const err = new Entry('a', 'b', 'c')
    t.equal(err.code, key)
    t.ok(isWireboxError(err), `${key} is recognised as a wirebox error`)
    t.ok(err instanceof Error)
    t.notMatch(err.message, /%s/, `${key} message is fully formatted`)
  }
})

test('the class says the kind: limits are RangeErrors, bad options TypeErrors', async (t) => {
  t.ok(new errors.WIREBOX_ERR_FRAME_TOO_LARGE(1, 2) instanceof RangeError)
  t.ok(new errors.WIREBOX_ERR_DECOMPRESSED_TOO_LARGE(1) instanceof RangeError)
  t.ok(new errors.WIREBOX_ERR_TOO_DEEP(1) instanceof RangeError)
  t.ok(new errors.WIREBOX_ERR_INVALID_OPTION('a', 'b') instanceof TypeError)
  t.notOk(new errors.WIREBOX_ERR_CHECKSUM_MISMATCH('1', '2') instanceof RangeError)
  t.equal(new errors.WIREBOX_ERR_FRAME_TOO_LARGE(10, 5).message, 'Frame payload of 10 bytes exceeds the limit of 5 bytes')
  t.equal(new errors.WIREBOX_ERR_FRAME_TOO_LARGE(10, 5).name, 'RangeError')
})

test('wire codes are the contract\'s and every error maps to one (or is local)', async (t) => {
  const codes = new Set<number>(Object.values(WireCode))
  for (const Entry of Object.values(errors)) {
    if (Entry.wireCode === undefined) {
      t.ok(LOCAL.has(Entry.code), `${Entry.code} is local, never sent`)
      continue
    }
    t.ok(codes.has(Entry.wireCode as number), `${Entry.code} has a contract wire code`)
  }
  t.same([...codes].sort((a, b) => a - b), [0x100, 0x101, 0x102, 0x103, 0x104, 0x200, 0x201, 0x202, 0x203, 0x204, 0x300, 0x301])
})

test('every error code is documented in PROTOCOL.md with its wire code and close code', async (t) => {
  for (const Entry of Object.values(errors)) {
    // The catalog's row starts with the code; other tables (limits) may name it further on.
    const row = protocol.split('\n').find((line) => line.startsWith(`| \`${Entry.code}\` |`))
    t.ok(row, `${Entry.code} has a row in PROTOCOL.md`)
    if (row === undefined) continue
    const wire = Entry.wireCode === undefined ? '—' : `0x${Entry.wireCode.toString(16)}`
    t.ok(row.includes(wire), `${Entry.code} row names wire code ${wire}`)
    t.ok(row.includes(Entry.closeCode === undefined ? '—' : String(Entry.closeCode)), `${Entry.code} row names its close code`)
  }
  for (const code of Object.values(WireCode)) {
    t.match(protocol, new RegExp(`\\| 0x${code.toString(16)} \\|`), `wire code 0x${code.toString(16)} is in the error-code table`)
  }
})

test('close codes: one named constant for each code sent, the catalog\'s among them', async (t) => {
  t.same(CloseCode, {
    NORMAL: 1000,
    GOING_AWAY: 1001,
    PROTOCOL_ERROR: 1002,
    INVALID_DATA: 1007,
    POLICY_VIOLATION: 1008,
    MESSAGE_TOO_BIG: 1009,
    INTERNAL_ERROR: 1011,
    TRY_AGAIN_LATER: 1013,
    HEARTBEAT_TIMEOUT: 4000
  })
  const named = new Set<number>(Object.values(CloseCode))
  for (const Entry of Object.values(errors)) {
    if (Entry.closeCode !== undefined) t.ok(named.has(Entry.closeCode), `${Entry.code} closes with a named code`)
  }
})
