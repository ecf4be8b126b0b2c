/**
 * bench/compact: the ECG example's streams in msgpack-compact against what a JSON client gets
 * (issue 10's acceptance), as ratios measured in the same run:
 *
 * - an `ecg.data` push of 25 samples (a topic EVENT): the compact frame against its JSON text;
 * - `ecg.history` responses of 250, 10,000 and 200,000 samples: compact (+ gzip above the
 *   threshold) against JSON + gzip, on the example's signal and on the same signal with 10 µV
 *   Gaussian noise added (still 3 decimals: a periodic synthetic signal flatters gzip).
 *
 * Every row goes through MessageEncoder (version 3, default threshold 1024 B, level 6, default
 * chunk size) and is decoded back to check it round-trips; bytes are all frames of the message.
 *
 * Run: npm run bench   (or: tsx bench/compact.ts)
 */
import { printTable } from './table.js'
import { MessageDecoder, MessageEncoder, MessageType, Flag, nodePlatform, compileLayout } from '../lib/index.js'
import type { Envelope, OutgoingMessage, WireSettings, WireFrame } from '../lib/index.js'
import { protocol } from '../example/protocol.js'
import { samples } from '../example/ecg.js'

const layout = compileLayout(protocol)
const timestamp = 1_700_000_000_000
const PATIENT = 'p-0001'

// Deterministic Gaussian noise (Box-Muller over a linear congruential generator).
let seed = 7
const uniform = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return (seed + 1) / 0x80000001
}
const gauss = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
const round3 = (x: number): number => Math.round(x * 1000) / 1000
const withNoise = (signal: number[], sd: number): number[] => signal.map((x) => round3(x + gauss() * sd))

const variants: Array<{ name: string, settings: WireSettings }> = [
  { name: 'JSON text', settings: { encoding: 'json', version: 3, compression: 'none' } },
  { name: 'JSON + gzip', settings: { encoding: 'json', version: 3, compression: 'gzip' } },
  { name: 'MessagePack + gzip', settings: { encoding: 'messagepack', version: 3, compression: 'gzip' } },
  { name: 'msgpack-compact', settings: { encoding: 'msgpack-compact', version: 3, compression: 'none' } },
  { name: 'msgpack-compact + gzip', settings: { encoding: 'msgpack-compact', version: 3, compression: 'gzip' } }
]

/** Deep equality where 0 and -0 are equal (every encoding sends -0 as 0). */
function same (a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

const sizeOf = (frames: WireFrame[]): number => frames.reduce((sum, f) => sum + (typeof f === 'string' ? Buffer.byteLength(f) : f.length), 0)

/** Bytes of each variant for one message, each decoded back and compared. */
async function sizes (message: OutgoingMessage): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const v of variants) {
    const encoder = new MessageEncoder(v.settings, { platform: nodePlatform, layout })
    const decoder = new MessageDecoder(v.settings, { platform: nodePlatform, layout })
    const frames = await encoder.encode({ ...message, timestamp: message.envelope.timestamp * 1000 })
    let decoded
    for (const f of frames) decoded = await decoder.decode(f)
    if (!same(decoded?.envelope, message.envelope)) throw new Error(`${v.name} does not round-trip`)
    out.set(v.name, sizeOf(frames))
  }
  return out
}

const fmt = (n: number): string => n.toFixed(2)
const rows: string[][] = []
const verdicts: string[] = []

// The push, as the example publishes it: topic EVENT with BROADCAST.
const push: Envelope = {
  event_type: 'ecg.data',
  timestamp,
  topic: `ecg/${PATIENT}`,
  seq: 1234,
  payload: { patient_id: PATIENT, seq: 1234, sampling_rate: 250, signal: samples(PATIENT, 1234 * 25, 25) }
}
{
  const s = await sizes({ type: MessageType.EVENT, flags: Flag.BROADCAST, envelope: push })
  const json = s.get('JSON text') as number
  for (const v of variants) rows.push(['ecg.data push, 25 samples', v.name, String(s.get(v.name)), fmt((s.get(v.name) as number) / json)])
  const ratio = (s.get('msgpack-compact + gzip') as number) / json
  verdicts.push(`ecg.data push: compact frame ${fmt(ratio)}x its JSON text -> ${ratio <= 0.5 ? 'meets' : 'does NOT meet'} "at most 0.5x" (aim 0.35x)`)
}

for (const count of [250, 10_000, 200_000]) {
  const clean = samples(PATIENT, count, count)
  for (const [label, signal] of [['example signal', clean], ['+ 10 µV noise', withNoise(clean, 0.010)]] as const) {
    const envelope: Envelope = { event_type: 'ecg.history', timestamp, id: 7, payload: { patient_id: PATIENT, sampling_rate: 250, signal } }
    const s = await sizes({ type: MessageType.RESPONSE, envelope })
    const gz = s.get('JSON + gzip') as number
    const name = `ecg.history ${count.toLocaleString('en')}, ${label}`
    for (const v of variants) rows.push([name, v.name, String(s.get(v.name)), fmt((s.get(v.name) as number) / gz)])
    const ratio = (s.get('msgpack-compact + gzip') as number) / gz
    verdicts.push(`${name}: compact (+ gzip) ${fmt(ratio)}x JSON + gzip -> ${ratio < 1 ? 'meets' : 'does NOT meet'} "smaller than JSON + gzip"`)
  }
}

console.log(`bench/compact - node ${process.version}, the ECG example's protocol (layout ${layout.hash}), patient ${PATIENT}, protocol version 3, threshold 1024 B, gzip level 6`)
console.log('  push rows: ratio to the JSON text frame; history rows: ratio to JSON + gzip; noise: Gaussian, sd 0.010 mV, rounded to 3 decimals')
console.log()
printTable(['stream', 'encoding', 'wire bytes', 'ratio'], rows)
console.log()
for (const v of verdicts) console.log(v)
