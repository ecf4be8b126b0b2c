/**
 * The ECG monitor page (bundled for the browser by example/page.ts): connects with the typed
 * client in MessagePack with gzip, draws the live trace of one patient, and shows the
 * negotiation and the bytes saved against JSON. `window.__ecg` exposes the state to tests.
 */
import { createClient } from '../../lib/client/browser.js'
import type { protocol } from '../protocol.js'

const patient = new URLSearchParams(location.search).get('patient') ?? 'demo'
const canvas = document.querySelector('canvas') as HTMLCanvasElement
const context = canvas.getContext('2d') as CanvasRenderingContext2D
const show = (id: string, text: string): void => { (document.getElementById(id) as HTMLElement).textContent = text }

const WINDOW = 1000 // samples on screen: 4 s at 250 Hz
const trace: number[] = []
const state = { negotiation: undefined as unknown, batches: 0, lastSeq: 0, historySamples: 0, jsonBytes: 0, wireBytes: 0, alerts: 0 }
;(window as unknown as { __ecg: typeof state }).__ecg = state

const client = createClient<typeof protocol>(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, { encoding: 'messagepack', compression: 'gzip' })
client.onStateChange((s) => show('state', s))

function draw (): void {
  context.fillStyle = '#0b1d13'
  context.fillRect(0, 0, canvas.width, canvas.height)
  context.strokeStyle = '#39ff88'
  context.lineWidth = 2
  context.beginPath()
  const start = Math.max(0, trace.length - WINDOW)
  for (let i = start; i < trace.length; i++) {
    const x = ((i - start) / WINDOW) * canvas.width
    const y = canvas.height * 0.7 - (trace[i] as number) * canvas.height * 0.45
    if (i === start) context.moveTo(x, y)
    else context.lineTo(x, y)
  }
  context.stroke()
}

function account (payload: unknown, envelope: unknown): void {
  // What the same message would cost as a JSON text frame.
  state.jsonBytes += new TextEncoder().encode(JSON.stringify({ type: 1, ...(envelope as object), payload })).length
  state.wireBytes = client.stats.wireBytesIn
  const saved = state.jsonBytes === 0 ? 0 : Math.round((1 - client.stats.wireBytesIn / state.jsonBytes) * 100)
  show('bytes', `${client.stats.wireBytesIn.toLocaleString()} bytes on the wire (${client.stats.bodyBytesIn.toLocaleString()} decoded), ${saved}% less than JSON`)
}

client.on('ecg.data', ({ signal, seq }, meta) => {
  trace.push(...signal)
  if (trace.length > 4 * WINDOW) trace.splice(0, trace.length - 2 * WINDOW)
  state.batches++
  state.lastSeq = seq
  show('seq', String(seq))
  account({ signal }, meta.envelope)
  draw()
})
client.on('anomaly.alert', ({ kind, severity }) => {
  state.alerts++
  show('alert', `${severity}: ${kind}`)
})

const negotiation = await client.ready()
state.negotiation = negotiation
show('negotiated', `${negotiation.encoding}, protocol v${negotiation.version}, ${negotiation.compression} above ${negotiation.compression_threshold} bytes`)
const history = await client.request('ecg.history', { patient_id: patient, samples: WINDOW })
state.historySamples = history.signal.length
trace.push(...history.signal)
account(history, { event_type: 'ecg.history' })
draw()
await client.subscribe(`ecg/${patient}`)
