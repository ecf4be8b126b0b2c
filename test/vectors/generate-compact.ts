/**
 * The msgpack-compact vectors (PROTOCOL.md section 9): `compact-*.hex` (one frame per line) and
 * `compact-manifest.json`, with each body as an independent MessagePack decoder sees it and the
 * envelope the library decodes. All use the example's protocol. Written by `npm run vectors`.
 */
import { writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { decode as independentDecode } from '@msgpack/msgpack'
import { MessageEncoder, MessageType, Flag, compileLayout } from '../../lib/index.js'
import type { OutgoingMessage, WireSettings, Envelope } from '../../lib/index.js'
import { nodePlatform } from '../../lib/platform/node.js'
import { protocol } from '../../example/protocol.js'
import { samples } from '../../example/ecg.js'

const HEADER_TIME = 1_700_000_000_000_123 // µs
const TIME = 1_700_000_000_000 // ms
const settings: WireSettings = { encoding: 'msgpack-compact', version: 3, compression: 'gzip' }
const env = (event_type: string, payload?: unknown, extra: Partial<Envelope> = {}): Envelope =>
  ({ event_type, timestamp: TIME, ...(payload === undefined ? {} : { payload }), ...extra }) as Envelope

/** One compact vector: the message, and the `$defs` name of its tuple schema (none for self-describing types). */
interface CompactVectorDef { name: string, message: OutgoingMessage, schema: string | null }

// ecg.data carries exactly 25 samples.
const signal = [0.125, 0.13, 0.128, -0.5, ...Array<number>(21).fill(1)]
export const compactDefinitions: CompactVectorDef[] = [
  { name: 'compact-event-ecg-data-topic', schema: 'compact.event.ecg.data', message: { type: MessageType.EVENT, flags: Flag.BROADCAST, envelope: env('ecg.data', { patient_id: 'p1', seq: 7, sampling_rate: 250, signal }, { topic: 'ecg/p1', seq: 7 }) } },
  { name: 'compact-event-ecg-data-float-fallback', schema: 'compact.event.ecg.data', message: { type: MessageType.EVENT, envelope: env('ecg.data', { patient_id: 'p1', seq: 8, sampling_rate: 250, signal: [0.125, 0.1305, ...Array<number>(23).fill(1)] }) } },
  { name: 'compact-event-ack-required', schema: 'compact.event.anomaly.alert', message: { type: MessageType.EVENT, flags: Flag.ACK_REQUIRED | Flag.PRIORITY, envelope: env('anomaly.alert', { patient_id: 'p1', kind: 'tachycardia', severity: 'high', seq: 3 }, { id: 42 }) } },
  { name: 'compact-request-ecg-history', schema: 'compact.request.ecg.history', message: { type: MessageType.REQUEST, envelope: env('ecg.history', { patient_id: 'p1', samples: 3 }, { id: 1 }) } },
  { name: 'compact-response-ecg-history', schema: 'compact.response.ecg.history', message: { type: MessageType.RESPONSE, envelope: env('ecg.history', { patient_id: 'p1', sampling_rate: 250, signal: [0.1, 0.2, 0.3] }, { id: 1 }) } },
  { name: 'compact-response-ecg-history-gzip', schema: 'compact.response.ecg.history', message: { type: MessageType.RESPONSE, envelope: env('ecg.history', { patient_id: 'p1', sampling_rate: 250, signal: samples('p1', 2000, 2000) }, { id: 2 }) } },
  { name: 'compact-response-ecg-annotate', schema: 'compact.response.ecg.annotate', message: { type: MessageType.RESPONSE, envelope: env('ecg.annotate', { ok: true }, { id: 3 }) } },
  {
    name: 'compact-protocol-negotiation',
    schema: null,
    message: {
      type: MessageType.PROTOCOL_NEGOTIATION,
      envelope: env('protocol_negotiation', {
        encoding: 'msgpack-compact', version: 3, compression: 'gzip', compression_threshold: 1024, max_message_size: 67108864, heartbeat_interval_ms: 30000, session_id: 's-1', fallback: false, layout: compileLayout(protocol).summary
      })
    }
  },
  { name: 'compact-error', schema: null, message: { type: MessageType.ERROR, envelope: env('error', { code: 0x200, error: 'WIREBOX_ERR_INVALID_PAYLOAD', message: 'Invalid payload', details: { path: '/payload/signal', event_type: 'ecg.data', problems: [{ path: '/payload/signal', message: 'Expected array' }] } }, { id: 1 }) } }
]

/** One compact vector as its manifest describes it. */
export interface CompactManifestEntry {
  name: string
  file: string
  settings: WireSettings
  layoutHash: string
  frames: number
  type: number
  flags: number
  headerTimestamp: number
  /** `$defs` name of the tuple schema in the protocol's JSON Schema, or null for a self-describing body. */
  schema: string | null
  /** The body as @msgpack/msgpack decodes it (after gunzip when COMPRESSED). */
  body: unknown
  /** The envelope the library decodes (JSON; -0 written as 0). */
  envelope: Envelope
}

/** Encodes every compact vector. */
export async function buildCompact (): Promise<Array<{ entry: CompactManifestEntry, hex: string[] }>> {
  const layout = compileLayout(protocol)
  const out = []
  for (const def of compactDefinitions) {
    const encoder = new MessageEncoder(settings, { platform: nodePlatform, layout })
    const frames = await encoder.encode({ ...def.message, timestamp: HEADER_TIME }) as Uint8Array[]
    const payload = Buffer.from((frames[0] as Uint8Array).subarray(19))
    const body = independentDecode(((frames[0]?.[2] as number) & Flag.COMPRESSED) !== 0 ? gunzipSync(payload) : payload)
    out.push({
      hex: frames.map((f) => Buffer.from(f).toString('hex')),
      entry: {
        name: def.name,
        file: `${def.name}.hex`,
        settings,
        layoutHash: layout.hash,
        frames: frames.length,
        type: def.message.type,
        flags: frames[0]?.[2] as number,
        headerTimestamp: HEADER_TIME,
        schema: def.schema,
        body,
        envelope: JSON.parse(JSON.stringify(def.message.envelope)) as Envelope
      }
    })
  }
  return out
}

/** Writes the compact vectors and their manifest into this folder. */
export async function writeCompact (): Promise<number> {
  const dir = new URL('./', import.meta.url)
  const built = await buildCompact()
  for (const { entry, hex } of built) writeFileSync(new URL(entry.file, dir), hex.join('\n') + '\n')
  writeFileSync(new URL('compact-manifest.json', dir), JSON.stringify(built.map((b) => b.entry), null, 2) + '\n')
  return built.length
}
