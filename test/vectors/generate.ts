/**
 * Writes the test vectors in this folder: `<name>.hex` (one frame per line: header + payload in
 * hex, or the UTF-8 bytes of a text frame) and `manifest.json` (what each vector holds, with the
 * body in the "generic" form an independent decoder sees). Run: `npm run vectors`.
 * The vectors pin the format: regenerate only with a PROTOCOL.md change.
 */
import { writeFileSync } from 'node:fs'
import { MessageEncoder, Flag, MessageType } from '../../lib/index.js'
import type { OutgoingMessage, WireSettings } from '../../lib/index.js'
import { nodePlatform } from '../../lib/platform/node.js'
import { genericForm } from './generic-form.js'
import { writeCompact } from './generate-compact.js'

const HEADER_TIME = 1_700_000_000_000_123 // µs
const TIME = 1_700_000_000_000 // ms

interface VectorDef {
  name: string
  settings: WireSettings
  message: OutgoingMessage
}

const mp3: WireSettings = { encoding: 'messagepack', version: 3, compression: 'gzip' }
const env = (event_type: string, payload?: unknown, extra: Record<string, unknown> = {}): OutgoingMessage['envelope'] =>
  ({ event_type, timestamp: TIME, ...(payload === undefined ? {} : { payload }), ...extra }) as OutgoingMessage['envelope']

const rows = Array.from({ length: 60 }, (_, i) => ({ i, name: `row-${i}`, value: i * 1.5 }))

export const definitions: VectorDef[] = [
  { name: 'v1-event-messagepack', settings: { ...mp3, version: 1 }, message: { type: MessageType.EVENT, envelope: env('ecg.data', { patient_id: 'p1', seq: 7 }) } },
  { name: 'v2-event-priority-broadcast-messagepack', settings: { ...mp3, version: 2 }, message: { type: MessageType.EVENT, flags: Flag.PRIORITY | Flag.BROADCAST, envelope: env('anomaly.alert', { patient_id: 'p1', kind: 'tachycardia' }) } },
  { name: 'v3-event-messagepack', settings: mp3, message: { type: MessageType.EVENT, envelope: env('ecg.data', { patient_id: 'p1', seq: 7, signal: [0.125, -0.5, 1] }, { topic: 'ecg/p1', seq: 7 }) } },
  { name: 'v3-event-ack-required-priority-messagepack', settings: mp3, message: { type: MessageType.EVENT, flags: Flag.ACK_REQUIRED | Flag.PRIORITY, envelope: env('anomaly.alert', { patient_id: 'p1' }, { id: 42 }) } },
  { name: 'v3-request-messagepack', settings: mp3, message: { type: MessageType.REQUEST, envelope: env('ecg.history', { patient_id: 'p1', samples: 3 }, { id: 1 }) } },
  { name: 'v3-response-messagepack', settings: mp3, message: { type: MessageType.RESPONSE, envelope: env('ecg.history', { patient_id: 'p1', sampling_rate: 250, signal: [0.1, 0.2, 0.3] }, { id: 1 }) } },
  { name: 'v3-ack-messagepack', settings: mp3, message: { type: MessageType.ACK, envelope: env('ack', undefined, { id: 42 }) } },
  { name: 'v3-heartbeat-messagepack', settings: mp3, message: { type: MessageType.HEARTBEAT, envelope: env('heartbeat') } },
  { name: 'v3-ping-messagepack', settings: mp3, message: { type: MessageType.PING, envelope: env('ping') } },
  { name: 'v3-pong-messagepack', settings: mp3, message: { type: MessageType.PONG, envelope: env('pong') } },
  { name: 'v3-subscribe-messagepack', settings: mp3, message: { type: MessageType.SUBSCRIBE, envelope: env('subscribe', { topic: 'ecg/p1', since: 5 }, { id: 2 }) } },
  { name: 'v3-unsubscribe-messagepack', settings: mp3, message: { type: MessageType.UNSUBSCRIBE, envelope: env('unsubscribe', { topic: 'ecg/p1' }, { id: 3 }) } },
  { name: 'v3-subscription-ack-messagepack', settings: mp3, message: { type: MessageType.SUBSCRIPTION_ACK, envelope: env('subscription_ack', { topic: 'ecg/p1', seq: 9, recovered: true }, { id: 2 }) } },
  { name: 'v3-version-check-messagepack', settings: mp3, message: { type: MessageType.VERSION_CHECK, envelope: env('version_check', { version: 3, encoding: 'messagepack' }) } },
  {
    name: 'v3-protocol-negotiation-messagepack',
    settings: mp3,
    message: {
      type: MessageType.PROTOCOL_NEGOTIATION,
      envelope: env('protocol_negotiation', {
        encoding: 'messagepack', version: 3, compression: 'gzip', compression_threshold: 1024, max_message_size: 67108864, heartbeat_interval_ms: 30000, session_id: 's-1', fallback: false
      })
    }
  },
  { name: 'v3-error-messagepack', settings: mp3, message: { type: MessageType.ERROR, envelope: env('error', { code: 0x201, error: 'WIREBOX_ERR_MISSING_FIELDS', message: 'Missing required field /payload/samples', details: { path: '/payload/samples', event_type: 'ecg.history', problems: [{ path: '/payload/samples', message: 'Expected required property' }] } }, { id: 1 }) } },
  {
    name: 'v3-event-custom-types-messagepack',
    settings: mp3,
    message: { type: MessageType.EVENT, envelope: env('ecg.raw', { at: new Date(TIME), raw: new Uint8Array([1, 2, 3, 255]), signal: new Float32Array([0.5, -1.25]), counts: new Int16Array([-2, 300]) }) }
  },
  { name: 'v3-event-gzip-messagepack', settings: mp3, message: { type: MessageType.EVENT, envelope: env('table.rows', { rows }) } },
  { name: 'v2-event-deflate-messagepack', settings: { ...mp3, version: 2, compression: 'deflate' }, message: { type: MessageType.EVENT, envelope: env('table.rows', { rows }) } },
  { name: 'v3-event-chunked-messagepack', settings: { ...mp3, compression: 'none', chunkSize: 64 }, message: { type: MessageType.EVENT, flags: Flag.PRIORITY, envelope: env('ecg.data', { patient_id: 'p1', signal: [0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] }) } },
  { name: 'v3-event-chunked-gzip-messagepack', settings: { ...mp3, chunkSize: 128 }, message: { type: MessageType.EVENT, envelope: env('table.rows', { rows }) } },
  { name: 'v3-event-json-text', settings: { ...mp3, encoding: 'json' }, message: { type: MessageType.EVENT, envelope: env('ecg.data', { patient_id: 'p1', seq: 7 }) } },
  { name: 'v3-event-priority-json-text', settings: { ...mp3, encoding: 'json' }, message: { type: MessageType.EVENT, flags: Flag.PRIORITY, envelope: env('anomaly.alert', { patient_id: 'p1' }) } },
  {
    name: 'v3-event-custom-types-json-text',
    settings: { ...mp3, encoding: 'json' },
    message: { type: MessageType.EVENT, envelope: env('ecg.raw', { at: new Date(TIME), raw: new Uint8Array([1, 2, 3, 255]), signal: new Float32Array([0.5, -1.25]) }) }
  },
  { name: 'v3-event-gzip-json', settings: { ...mp3, encoding: 'json' }, message: { type: MessageType.EVENT, envelope: env('table.rows', { rows }) } },
  { name: 'v2-event-deflate-json', settings: { ...mp3, encoding: 'json', version: 2, compression: 'deflate' }, message: { type: MessageType.EVENT, envelope: env('table.rows', { rows }) } }
]

/** One vector as the manifest describes it. */
export interface ManifestEntry {
  name: string
  file: string
  settings: WireSettings
  transport: 'binary' | 'text'
  frames: number
  version: number
  type: number
  flags: number
  headerTimestamp: number | null
  body: unknown
}

/** Encodes every definition; returns the hex lines and manifest entries. */
export async function build (): Promise<Array<{ entry: ManifestEntry, hex: string[] }>> {
  const out = []
  for (const def of definitions) {
    const encoder = new MessageEncoder(def.settings, { platform: nodePlatform })
    const frames = await encoder.encode({ ...def.message, timestamp: HEADER_TIME })
    const text = typeof frames[0] === 'string'
    const hex = frames.map((f) => Buffer.from(f as Uint8Array | string).toString('hex'))
    const first = frames[0] as Uint8Array
    const body = def.settings.encoding === 'json'
      ? { type: def.message.type, ...(text && def.message.flags !== undefined ? { flags: def.message.flags } : {}), ...def.message.envelope }
      : def.message.envelope
    out.push({
      hex,
      entry: {
        name: def.name,
        file: `${def.name}.hex`,
        settings: def.settings,
        transport: text ? 'text' as const : 'binary' as const,
        frames: frames.length,
        version: def.settings.version,
        type: def.message.type,
        flags: text ? (def.message.flags ?? 0) : (first[2] as number),
        headerTimestamp: text || def.settings.version !== 3 ? null : HEADER_TIME,
        body: genericForm(body, def.settings.encoding)
      }
    })
  }
  return out
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const dir = new URL('./', import.meta.url)
  const built = await build()
  for (const { entry, hex } of built) writeFileSync(new URL(entry.file, dir), hex.join('\n') + '\n')
  writeFileSync(new URL('manifest.json', dir), JSON.stringify(built.map((b) => b.entry), null, 2) + '\n')
  console.log(`wrote ${built.length} vectors and ${await writeCompact()} msgpack-compact vectors`)
}
