/**
 * The msgpack-compact vectors (test/vectors/compact-*.hex, PROTOCOL.md section 9) read without
 * the library: header by hand, zlib from node:zlib, the body with @msgpack/msgpack, then checked
 * by Ajv 2020 against the tuple schema the protocol's generated JSON Schema gives that message;
 * the library decodes each to the documented envelope, and re-encodes the uncompressed ones byte
 * for byte.
 */
import { test } from 'tap'
import { readFileSync } from 'node:fs'
import zlib from 'node:zlib'
import { decode as independentDecode } from '@msgpack/msgpack'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { MessageDecoder, Flag, compileLayout } from '../lib/index.js'
import { nodePlatform } from '../lib/platform/node.js'
import { protocolJsonSchema } from '../lib/schema/json-schema.js'
import { COMPACT_KEYWORDS } from '../lib/schema/compact-schema.js'
import { protocol } from '../example/protocol.js'
import { buildCompact } from './vectors/generate-compact.js'
import type { CompactManifestEntry } from './vectors/generate-compact.js'

const dir = new URL('./vectors/', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('compact-manifest.json', dir), 'utf8')) as CompactManifestEntry[]
const framesOf = (entry: CompactManifestEntry): Buffer[] =>
  readFileSync(new URL(entry.file, dir), 'utf8').trim().split('\n').map((line) => Buffer.from(line, 'hex'))

// strictTuples off: a compact body's trailing fields (id, topic, seq) may be left out, so its
// tuple has fewer required items than positions, by design.
const ajv = new Ajv2020({ strict: true, strictTuples: false, allErrors: true })
for (const keyword of COMPACT_KEYWORDS) ajv.addKeyword(keyword)
ajv.addSchema(protocolJsonSchema(protocol) as object, 'protocol')

function referenceCrc32 (bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

function independentBody (frame: Buffer, entry: CompactManifestEntry): unknown {
  const payload = frame.subarray(19)
  return independentDecode((entry.flags & Flag.COMPRESSED) !== 0 ? zlib.gunzipSync(payload) : payload)
}

test('the compact vectors are the example\'s current layout, and pin the documented bodies', async (t) => {
  t.ok(manifest.length >= 9)
  for (const entry of manifest) t.equal(entry.layoutHash, compileLayout(protocol).hash, `${entry.name}: layout ${entry.layoutHash}`)
  const body = (name: string): unknown => manifest.find((e) => e.name === name)?.body
  // PROTOCOL.md 9.2: [event id, payload tuple, id, topic, seq]; the signal in counts of 0.001, delta-coded.
  const zeros = (n: number): number[] => Array<number>(n).fill(0)
  t.same(body('compact-event-ecg-data-topic'), [0, ['p1', 7, 250, [125, 5, -2, -628, 1500, ...zeros(20)]], null, 'ecg/p1', 7])
  t.same(body('compact-event-ecg-data-float-fallback'), [0, ['p1', 8, 250, [125, 0.1305, ...Array<number>(23).fill(1000)]]], 'not all multiples: element by element, the odd one a float')
  t.same(body('compact-request-ecg-history'), [0, ['p1', 3], 1])
  t.same(body('compact-event-ack-required'), [1, ['p1', 'tachycardia', 'high', 3], 42])
  t.same(body('compact-response-ecg-annotate'), [1, [true], 3])
  t.match(body('compact-protocol-negotiation'), { event_type: 'protocol_negotiation', payload: { encoding: 'msgpack-compact', layout: { hash: compileLayout(protocol).hash, events: ['ecg.data', 'anomaly.alert', 'ecg.annotation'], requests: ['ecg.history', 'ecg.annotate'] } } })
  t.ok(manifest.some((e) => (e.flags & Flag.COMPRESSED) !== 0), 'a compressed one')
})

for (const entry of manifest) {
  test(`compact vector ${entry.name}`, async (t) => {
    const frames = framesOf(entry)
    t.equal(frames.length, entry.frames)
    const frame = frames[0] as Buffer
    t.equal(frame[0], 3, 'version 3')
    t.equal(frame[1], entry.type)
    t.equal(frame[2], entry.flags)
    t.equal(frame.readUInt32BE(3), frame.length - 19, 'length')
    t.equal(frame.readUInt32BE(7), referenceCrc32(frame.subarray(19)), 'CRC-32 of the payload')
    t.equal(Number(frame.readBigUInt64BE(11)), entry.headerTimestamp, 'header timestamp (µs)')
    const body = independentBody(frame, entry)
    t.same(body, entry.body, '@msgpack/msgpack reads the documented body')
    if (entry.schema !== null) {
      t.ok(Array.isArray(body), 'a positional array')
      const validate = ajv.getSchema(`protocol#/$defs/${entry.schema}`)
      t.ok(validate?.(body), `the generated tuple schema ${entry.schema} accepts it ${ajv.errorsText(validate?.errors)}`)
      t.equal(Math.floor(entry.headerTimestamp / 1000), entry.envelope.timestamp, 'the envelope timestamp is the header\'s, in ms')
    } else {
      t.notOk(Array.isArray(body), 'self-describing: a map')
    }
    const decoder = new MessageDecoder(entry.settings, { platform: nodePlatform, layout: compileLayout(protocol) })
    let decoded
    for (const f of frames) decoded = await decoder.decode(f)
    t.same(decoded?.envelope, entry.envelope, 'the library decodes the documented envelope')
  })
}

test('the generated tuple schemas refuse bodies of the wrong shape', async (t) => {
  const validate = ajv.getSchema('protocol#/$defs/compact.event.ecg.data')
  const counts = Array<number>(25).fill(3)
  t.ok(validate?.([0, ['p1', 7, 250, counts]]))
  t.notOk(validate?.([0, ['p1', 7, 250]]), 'a property missing')
  t.notOk(validate?.([1, ['p1', 7, 250, counts]]), 'another event id')
  t.notOk(validate?.([0, { patient_id: 'p1' }]), 'a map')
  t.notOk(validate?.([0, ['p1', 7, 250, [...counts.slice(1), 'x']]]), 'a string in the signal')
  t.notOk(validate?.([0, ['p1', 7, 250, counts.slice(1)]]), '24 samples')
})

test('the encoder reproduces every uncompressed compact vector byte for byte', async (t) => {
  for (const { entry, hex } of await buildCompact()) {
    if ((entry.flags & Flag.COMPRESSED) !== 0) continue
    t.same(hex, framesOf(entry).map((f) => f.toString('hex')), entry.name)
  }
})
