/**
 * The test vectors pin the wire format. Each is decoded here without the library: header by
 * hand, CRC32 by a bitwise reference implementation, zlib from node:zlib, bodies with
 * @msgpack/msgpack or JSON.parse; then the library must decode each to the same message, and
 * re-encode the uncompressed ones byte for byte.
 */
import { test } from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import zlib from 'node:zlib'
import { decode as msgpackDecode } from '@msgpack/msgpack'
import { MessageDecoder, Flag } from '../lib/index.js'
import { nodePlatform } from '../lib/platform/node.js'
import { build } from './vectors/generate.js'
import type { ManifestEntry } from './vectors/generate.js'
import { genericForm } from './vectors/generic-form.js'

const dir = new URL('./vectors/', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as ManifestEntry[]
const framesOf = (entry: ManifestEntry): Buffer[] =>
  readFileSync(new URL(entry.file, dir), 'utf8').trim().split('\n').map((line) => Buffer.from(line, 'hex'))

function referenceCrc32 (bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

function independentBody (entry: ManifestEntry, frames: Buffer[], t: Test): unknown {
  if (entry.transport === 'text') return JSON.parse((frames[0] as Buffer).toString('utf8'))
  const headerSize = entry.version === 3 ? 19 : 11
  const payloads: Buffer[] = []
  let chunkCount = 0
  frames.forEach((frame, i) => {
    t.equal(frame[0], entry.version, 'version byte')
    t.equal(frame[1], entry.type, 'type byte')
    t.equal(frame[2], entry.flags, 'flags byte')
    const length = frame.readUInt32BE(3)
    t.equal(length, frame.length - headerSize, 'length field counts the payload bytes')
    const payload = frame.subarray(headerSize)
    t.equal(frame.readUInt32BE(7), referenceCrc32(payload), 'CRC32 of the payload as sent')
    if (entry.version === 3) t.equal(Number(frame.readBigUInt64BE(11)), entry.headerTimestamp, 'v3 timestamp in µs')
    if ((entry.flags & Flag.CHUNKED) !== 0) {
      t.equal(payload.readUInt16BE(4), i, 'chunk index')
      chunkCount = payload.readUInt16BE(6)
      payloads.push(payload.subarray(8))
    } else {
      payloads.push(payload)
    }
  })
  if (chunkCount !== 0) t.equal(chunkCount, frames.length, 'chunk count')
  let body = Buffer.concat(payloads)
  if ((entry.flags & Flag.COMPRESSED) !== 0) {
    body = entry.settings.compression === 'gzip' ? zlib.gunzipSync(body) : zlib.inflateSync(body)
  }
  if (body.length === 0) return undefined
  return entry.settings.encoding === 'json' ? JSON.parse(body.toString('utf8')) : genericForm(msgpackDecode(body), 'messagepack')
}

test('the manifest covers every message type, flag, version, encoding and compression', async (t) => {
  const types = new Set(manifest.map((e) => e.type))
  t.same([...types].sort((a, b) => a - b), [0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0xfd, 0xfe, 0xff])
  const flags = manifest.reduce((all, e) => all | e.flags, 0)
  t.equal(flags, Flag.COMPRESSED | Flag.PRIORITY | Flag.BROADCAST | Flag.ACK_REQUIRED | Flag.CHUNKED, 'every defined flag but ENCRYPTED')
  t.same(new Set(manifest.map((e) => e.version)), new Set([1, 2, 3]))
  t.ok(manifest.some((e) => e.transport === 'text') && manifest.some((e) => e.settings.encoding === 'json' && e.transport === 'binary'))
  t.ok(manifest.some((e) => e.settings.compression === 'deflate' && (e.flags & Flag.COMPRESSED) !== 0))
  t.ok(manifest.some((e) => e.settings.compression === 'gzip' && (e.flags & Flag.COMPRESSED) !== 0))
})

for (const entry of manifest) {
  test(`vector ${entry.name}`, async (t) => {
    const frames = framesOf(entry)
    t.equal(frames.length, entry.frames)
    t.same(independentBody(entry, frames, t), entry.body, 'an independent decoder reads the documented body')

    const decoder = new MessageDecoder(entry.settings, { platform: nodePlatform })
    let decoded
    for (const frame of frames) decoded = await decoder.decode(entry.transport === 'text' ? frame.toString('utf8') : frame)
    t.ok(decoded, 'the library decodes it')
    t.equal(decoded?.type, entry.type)
    t.equal(decoded?.flags, entry.flags)
    const { type: _t, flags: _f, ...expectedEnvelope } = entry.body as Record<string, unknown>
    t.same(genericForm(decoded?.envelope, entry.settings.encoding), entry.settings.encoding === 'json' ? expectedEnvelope : entry.body)
  })
}

test('the encoder reproduces every uncompressed vector byte for byte', async (t) => {
  for (const { entry, hex } of await build()) {
    if ((entry.flags & Flag.COMPRESSED) !== 0) continue // zlib's bytes may differ between zlib builds
    t.same(hex, framesOf(entry).map((f) => f.toString('hex')), entry.name)
  }
})
