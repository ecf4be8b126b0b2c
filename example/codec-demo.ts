/**
 * A small demo of the wire core until the plugin's example server exists: encodes one ECG
 * message in each encoding, prints the frames, and decodes them back.
 */
import { MessageDecoder, MessageEncoder, MessageType, nodePlatform } from '../lib/index.js'
import type { WireSettings } from '../lib/index.js'

const signal = Float32Array.from({ length: 25 }, (_, i) => Math.round(Math.sin(i / 4) * 1000) / 1000)
const envelope = { event_type: 'ecg.data', timestamp: Date.now(), payload: { patient_id: 'p1', seq: 1, sampling_rate: 250, signal } }

for (const settings of [
  { encoding: 'json', version: 3, compression: 'gzip' },
  { encoding: 'messagepack', version: 3, compression: 'gzip' }
] satisfies WireSettings[]) {
  const encoder = new MessageEncoder(settings, { platform: nodePlatform })
  const decoder = new MessageDecoder(settings, { platform: nodePlatform })
  const [frame] = await encoder.encode({ type: MessageType.EVENT, envelope })
  if (frame === undefined) throw new Error('no frame')
  const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length
  console.log(`${settings.encoding}: ${size} bytes on the wire (${typeof frame === 'string' ? 'text' : 'binary'} frame)`)
  console.log(typeof frame === 'string' ? frame : Buffer.from(frame).toString('hex'))
  const decoded = await decoder.decode(frame)
  console.log('decoded:', decoded?.envelope)
  console.log()
}
