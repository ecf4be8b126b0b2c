/**
 * Property-based: random and mutated frames never throw anything but the catalog's errors, and
 * every decode settles (tap's timeout catches a hang).
 */
import { test } from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { MessageDecoder, createMessagePackCodec, createJsonCodec, isWireboxError } from '../lib/index.js'
import type { WireSettings } from '../lib/index.js'
import type { ManifestEntry } from './vectors/generate.js'
import { nodePlatform } from '../lib/platform/node.js'

const dir = new URL('./vectors/', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as ManifestEntry[]
const seeds = manifest.filter((e) => e.transport === 'binary').flatMap((e) =>
  readFileSync(new URL(e.file, dir), 'utf8').trim().split('\n').map((line) => ({ settings: e.settings, bytes: Buffer.from(line, 'hex') })))

async function settles (decoder: MessageDecoder, data: Uint8Array | string): Promise<boolean> {
  try {
    await decoder.decode(data)
    return true
  } catch (err) {
    if (!isWireboxError(err)) throw err
    return true
  }
}

const settingsArb = fc.record({
  encoding: fc.constantFrom('messagepack' as const, 'json' as const),
  version: fc.constantFrom(1 as const, 2 as const, 3 as const),
  compression: fc.constantFrom('gzip' as const, 'deflate' as const, 'none' as const)
})

test('random bytes: only catalog errors', async (t) => {
  await fc.assert(fc.asyncProperty(settingsArb, fc.uint8Array({ maxLength: 300 }), async (settings: WireSettings, bytes) => {
    return await settles(new MessageDecoder({ ...settings, maxMessageSize: 1 << 20 }, { platform: nodePlatform }), bytes)
  }), { numRuns: 1500 })
  t.pass('1500 random frames')
})

test('random frames with a plausible header: only catalog errors', async (t) => {
  const header = fc.tuple(fc.constantFrom(1, 2, 3), fc.constantFrom(0x01, 0x02, 0x04, 0x10, 0x20, 0xff, 0x07), fc.integer({ min: 0, max: 0x3f }))
  await fc.assert(fc.asyncProperty(settingsArb, header, fc.uint8Array({ maxLength: 200 }), async (settings: WireSettings, [version, type, flags], payload) => {
    const size = version === 3 ? 19 : 11
    const frame = Buffer.alloc(size + payload.length)
    frame.writeUInt8(version, 0)
    frame.writeUInt8(type, 1)
    frame.writeUInt8(flags, 2)
    frame.writeUInt32BE(payload.length, 3)
    frame.writeUInt32BE(nodePlatform.crc32(payload), 7) // a valid checksum: the payload gets decoded
    frame.set(payload, size)
    return await settles(new MessageDecoder({ ...settings, version: version as 1 | 2 | 3 }, { platform: nodePlatform }), frame)
  }), { numRuns: 2000 })
  t.pass('2000 framed random payloads')
})

test('mutated valid frames (and their checksums fixed up): only catalog errors', async (t) => {
  const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
  await fc.assert(fc.asyncProperty(fc.constantFrom(...seeds), mutation, fc.boolean(), async (seed, changes, fixChecksum) => {
    const bytes = Buffer.from(seed.bytes)
    for (const [at, value] of changes) bytes[at % bytes.length] = value
    const size = bytes[0] === 3 ? 19 : 11
    if (fixChecksum && bytes.length >= size) bytes.writeUInt32BE(nodePlatform.crc32(bytes.subarray(size)), 7)
    return await settles(new MessageDecoder(seed.settings, { platform: nodePlatform }), bytes)
  }), { numRuns: 3000 })
  t.pass('3000 mutated frames')
})

test('random JSON text and MessagePack bodies: only catalog errors', async (t) => {
  const decoder = new MessageDecoder({ encoding: 'json', version: 3, compression: 'gzip' }, { platform: nodePlatform })
  await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (text) => await settles(decoder, text)), { numRuns: 1500 })
  const mp = createMessagePackCodec()
  const js = createJsonCodec()
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    for (const codec of [mp, js]) {
      try {
        codec.decode(bytes)
      } catch (err) {
        if (!isWireboxError(err)) throw err
      }
    }
    return true
  }), { numRuns: 3000 })
  t.pass('random bodies')
})

test('any JSON-compatible value round-trips through both codecs', async (t) => {
  const mp = createMessagePackCodec()
  const js = createJsonCodec()
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
    // JSON has no -0. Refused by design: integral numbers in the 2^53..2^64 range, the reserved
    // wrapper keys and __proto__ (all "__"-prefixed keys are skipped here).
    const normal = JSON.parse(JSON.stringify(value)) as unknown
    const text = JSON.stringify(normal)
    if (/\d{16,}/.test(text) || text.includes('"__')) return true
    t.same(mp.decode(mp.encode(normal)), normal)
    t.same(js.decode(js.encode(normal)), normal)
    return true
  }), { numRuns: 300 })
})
