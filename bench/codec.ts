/**
 * bench/codec: bytes on the wire and encode+decode time per message, for four payload families,
 * each as a ratio to plain JSON (JSON.stringify / JSON.parse of the envelope, one text frame)
 * measured in the same run. wirebox rows go through the whole pipeline: codec, compression,
 * frame header and CRC32, and back (MessageEncoder / MessageDecoder, version 3).
 *
 * Run: npm run bench   (or: tsx bench/codec.ts [--quick])
 */
import { printTable } from './table.js'
import { MessageDecoder, MessageEncoder, MessageType, nodePlatform } from '../lib/index.js'
import type { Envelope, WireSettings } from '../lib/index.js'

const quick = process.argv.includes('--quick')
const TARGET_MS = quick ? 150 : 600 // time spent measuring each row

// Deterministic pseudo-random numbers, so every run measures the same data.
let seed = 42
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const round3 = (x: number): number => Math.round(x * 1000) / 1000
const timestamp = 1_700_000_000_000

const ecgSignal = Array.from({ length: 25 }, (_, i) => round3(Math.sin(i / 4) * 1.2 + (rand() - 0.5) * 0.05))

// `baseline`: what a JSON user sends for the same data (JSON has no Float32Array).
const families: Array<{ name: string, what: string, envelope: Envelope, baseline?: Envelope }> = [
  {
    name: 'small event',
    what: 'presence update, 9 short fields',
    envelope: {
      event_type: 'user.presence',
      timestamp,
      payload: { user_id: 'u_8f3a2c91', room: 'support-emea', status: 'online', device: 'ios', app_version: '5.12.3', typing: false, unread: 3, last_seen: timestamp - 5000, locale: 'de-DE' }
    }
  },
  {
    name: 'ECG batch, number[]',
    what: '25 samples, 3-decimal floats, as a plain array',
    envelope: { event_type: 'ecg.data', timestamp, topic: 'ecg/p-0001', seq: 1234, payload: { patient_id: 'p-0001', seq: 1234, sampling_rate: 250, signal: ecgSignal } }
  },
  {
    name: 'ECG batch, Float32Array',
    what: 'the same 25 samples declared as NdArray(\'float32\'); JSON baseline: the number[] form',
    envelope: { event_type: 'ecg.data', timestamp, topic: 'ecg/p-0001', seq: 1234, payload: { patient_id: 'p-0001', seq: 1234, sampling_rate: 250, signal: Float32Array.from(ecgSignal) } },
    baseline: { event_type: 'ecg.data', timestamp, topic: 'ecg/p-0001', seq: 1234, payload: { patient_id: 'p-0001', seq: 1234, sampling_rate: 250, signal: ecgSignal } }
  },
  {
    name: '4 KB telemetry',
    what: '16 sensors x 24 readings (2-decimal floats) + metadata',
    envelope: {
      event_type: 'telemetry.batch',
      timestamp,
      payload: {
        device: 'plant-7/line-3',
        sensors: Array.from({ length: 16 }, (_, i) => ({ id: `s${i}`, unit: i % 2 === 0 ? 'C' : 'bar', readings: Array.from({ length: 24 }, () => Math.round(rand() * 10000) / 100) }))
      }
    }
  },
  {
    name: '64 KB rows',
    what: '400 table rows of 7 mixed fields',
    envelope: {
      event_type: 'table.rows',
      timestamp,
      payload: {
        rows: Array.from({ length: 400 }, (_, i) => ({
          id: 100000 + i,
          name: `Customer ${i}`,
          email: `customer${i}@example.com`,
          active: i % 3 !== 0,
          score: Math.round(rand() * 100000) / 100,
          country: ['DE', 'FR', 'US', 'JP', 'BR'][i % 5],
          created_at: `2024-0${1 + (i % 9)}-1${i % 10}T10:00:00Z`
        }))
      }
    }
  }
]

interface Variant {
  name: string
  settings?: WireSettings
}

const variants: Variant[] = [
  { name: 'JSON (baseline: JSON.stringify, text frame)' },
  { name: 'wirebox JSON', settings: { encoding: 'json', version: 3, compression: 'none' } },
  { name: 'wirebox MessagePack', settings: { encoding: 'messagepack', version: 3, compression: 'none' } },
  { name: 'wirebox MessagePack + gzip', settings: { encoding: 'messagepack', version: 3, compression: 'gzip' } },
  { name: 'wirebox MessagePack + deflate', settings: { encoding: 'messagepack', version: 3, compression: 'deflate' } }
]

async function measure (run: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await run() // warm up
  let ops = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(TARGET_MS) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 50; i++) await run()
    ops += 50
    now = process.hrtime.bigint()
  }
  return Number(now - start) / 1000 / ops // µs per op
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits)
const rows: string[][] = []
const summary: string[] = []

for (const family of families) {
  const plain = family.baseline ?? family.envelope
  const baselineBytes = Buffer.byteLength(JSON.stringify({ type: MessageType.EVENT, ...plain }))
  const baselineUs = await measure(() => JSON.parse(JSON.stringify({ type: MessageType.EVENT, ...plain })))
  let best = { name: '', ratio: 1 }
  for (const variant of variants) {
    let bytes = baselineBytes
    let us = baselineUs
    if (variant.settings !== undefined) {
      const encoder = new MessageEncoder(variant.settings, { platform: nodePlatform })
      const decoder = new MessageDecoder(variant.settings, { platform: nodePlatform })
      const frames = await encoder.encode({ type: MessageType.EVENT, envelope: family.envelope })
      bytes = frames.reduce((sum, f) => sum + (typeof f === 'string' ? Buffer.byteLength(f) : f.length), 0)
      us = await measure(async () => {
        const out = await encoder.encode({ type: MessageType.EVENT, envelope: family.envelope })
        for (const frame of out) await decoder.decode(frame)
      })
    }
    const ratio = bytes / baselineBytes
    if (variant.settings?.encoding === 'messagepack' && ratio < best.ratio) best = { name: variant.name, ratio }
    rows.push([family.name, variant.name, String(bytes), fmt(ratio), fmt(us, 1), fmt(us / baselineUs)])
  }
  const saving = Math.round((1 - best.ratio) * 100)
  summary.push(`${family.name}: best MessagePack variant ${saving}% smaller than JSON (${best.name || 'none smaller'}) -> ${saving >= 30 ? 'meets' : 'does NOT meet'} the 30% goal`)
}

const header = ['family', 'encoding', 'wire bytes', 'bytes / JSON', 'encode+decode µs', 'time / JSON']

console.log(`bench/codec - node ${process.version}, ${TARGET_MS} ms per row, one EVENT message per op, protocol version 3, threshold 1024 B, level 6`)
for (const f of families) console.log(`  ${f.name}: ${f.what}`)
console.log()
printTable(header, rows)
console.log()
for (const s of summary) console.log(s)
