/**
 * The ECG monitor page (bundled for the browser by example/page.ts): connects with the typed
 * client in MessagePack with gzip and draws the live trace of one patient (`?patient=`, default
 * `demo`, or picked in the page) on a grid with a time axis in seconds and a millivolt scale. The
 * trace is joined only between samples known to be consecutive: where the `seq` of `ecg.data`
 * does not follow the last one (messages lost while reconnecting, a restarted server or
 * stream), a gap marker is drawn instead. `window.__ecg` exposes the state to tests.
 */
import { createClient } from '../../lib/client/browser.js'
import type { EventMeta } from '../../lib/client/browser.js'
import { protocol } from '../protocol.js'

const WINDOW = 1000 // samples on screen
const RATE = 250 // samples per second (the protocol's sampling_rate)
const MV_MIN = -0.5 // the millivolt scale
const MV_MAX = 1.5
const PLOT = { left: 52, right: 12, top: 10, bottom: 28 } // margins of the plot area, in canvas pixels

/** A marker drawn between two samples: `at` counts samples received for this patient. */
interface Marker { at: number, kind: 'gap' | 'live', label: string }

const canvas = document.querySelector('canvas') as HTMLCanvasElement
const context = canvas.getContext('2d') as CanvasRenderingContext2D
const select = document.getElementById('patient-select') as HTMLSelectElement
const element = (id: string): HTMLElement => document.getElementById(id) as HTMLElement
const show = (id: string, text: string): void => { element(id).textContent = text }

const state = {
  patient: new URLSearchParams(location.search).get('patient') ?? 'demo',
  negotiation: undefined as unknown,
  batches: 0,
  lastSeq: 0,
  lastPatientId: '',
  historySamples: 0,
  jsonBytes: 0,
  wireBytes: 0,
  alerts: 0,
  /** Gap markers recorded since the page loaded (for every patient shown). */
  gaps: 0,
  /** Topic messages known to be missing (seq jumped ahead), besides restarts (seq went back). */
  lostMessages: 0,
  /** Gap markers on screen after the last drawing. */
  gapsDrawn: 0,
  axes: { seconds: [] as string[], millivolts: [] as string[] }
}
;(window as unknown as { __ecg: typeof state }).__ecg = state

// The trace of the patient shown: samples in arrival order, the oldest beyond 4 windows dropped.
let trace: number[] = []
let dropped = 0 // samples dropped from the front of `trace`
let received = 0 // samples received for this patient (dropped + trace.length)
let markers: Marker[] = []
let last: { dataSeq: number, topicSeq: number | undefined } | undefined
let generation = 0 // bumped on each change of patient: stale answers are ignored

// With the protocol's schemas the client speaks msgpack-compact (README, "msgpack-compact").
const client = createClient<typeof protocol>(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, { protocol, compression: 'gzip' })
client.onStateChange((s) => show('state', s))

const topicOf = (patient: string): string => `ecg/${patient}`
const x = (index: number): number => { // index in `trace`; the newest sample is at the right edge
  const width = canvas.width - PLOT.left - PLOT.right
  return canvas.width - PLOT.right - ((trace.length - 1 - index) / (WINDOW - 1)) * width
}
const y = (mv: number): number => {
  const height = canvas.height - PLOT.top - PLOT.bottom
  return PLOT.top + ((MV_MAX - mv) / (MV_MAX - MV_MIN)) * height
}
const mvLabel = (mv: number): string => (mv === 0 ? '0' : mv.toFixed(1).replace('-', '−'))

/** The grid as on ECG paper (0.04 s and 0.1 mV, heavier every 0.2 s and 0.5 mV), with labels. */
function drawAxes (): void {
  const plotLeft = PLOT.left
  const plotRight = canvas.width - PLOT.right
  const plotBottom = canvas.height - PLOT.bottom
  const secondWidth = ((plotRight - plotLeft) * RATE) / (WINDOW - 1)
  const seconds: string[] = []
  const millivolts: string[] = []
  context.font = '12px system-ui, sans-serif'
  context.lineWidth = 1
  // Time: 0 s is the newest sample, at the right edge; lines every 0.04 s back from there.
  for (let step = 0; plotRight - (step * secondWidth) / 25 >= plotLeft - 0.5; step++) {
    const px = Math.round(plotRight - (step * secondWidth) / 25) + 0.5
    context.strokeStyle = step % 5 === 0 ? '#1f5c3a' : '#112e1e'
    context.beginPath()
    context.moveTo(px, PLOT.top)
    context.lineTo(px, plotBottom)
    context.stroke()
    if (step % 25 === 0) {
      const label = step === 0 ? '0 s' : `−${step / 25} s`
      seconds.unshift(label)
      context.fillStyle = '#7fcfa0'
      context.textAlign = step === 0 ? 'right' : 'center'
      context.textBaseline = 'top'
      context.fillText(label, px, plotBottom + 6)
    }
  }
  // Millivolts: lines every 0.1 mV, labelled every 0.5 mV.
  for (let tenth = Math.round(MV_MIN * 10); tenth <= Math.round(MV_MAX * 10); tenth++) {
    const py = Math.round(y(tenth / 10)) + 0.5
    context.strokeStyle = tenth % 5 === 0 ? '#1f5c3a' : '#112e1e'
    context.beginPath()
    context.moveTo(plotLeft, py)
    context.lineTo(plotRight, py)
    context.stroke()
    if (tenth % 5 === 0) {
      const label = mvLabel(tenth / 10)
      millivolts.push(label)
      context.fillStyle = '#7fcfa0'
      context.textAlign = 'right'
      context.textBaseline = 'middle'
      context.fillText(label, plotLeft - 8, py)
    }
  }
  context.save()
  context.translate(12, (PLOT.top + plotBottom) / 2)
  context.rotate(-Math.PI / 2)
  context.textAlign = 'center'
  context.textBaseline = 'middle'
  context.fillText('mV', 0, 0)
  context.restore()
  state.axes = { seconds, millivolts }
  canvas.dataset.seconds = seconds.join('|')
  canvas.dataset.millivolts = millivolts.join('|')
}

function draw (): void {
  context.fillStyle = '#0b1d13'
  context.fillRect(0, 0, canvas.width, canvas.height)
  drawAxes()
  const start = Math.max(0, trace.length - WINDOW)
  const breaks = new Set(markers.map((m) => m.at - dropped))
  context.save()
  context.beginPath()
  context.rect(PLOT.left, PLOT.top, canvas.width - PLOT.left - PLOT.right, canvas.height - PLOT.top - PLOT.bottom)
  context.clip()
  context.strokeStyle = '#39ff88'
  context.lineWidth = 2
  context.beginPath()
  for (let i = start; i < trace.length; i++) {
    // A marker at i means sample i does not follow sample i - 1: the path is not joined there.
    if (i === start || breaks.has(i)) context.moveTo(x(i), y(trace[i] as number))
    else context.lineTo(x(i), y(trace[i] as number))
  }
  context.stroke()
  let gapsDrawn = 0
  for (const marker of markers) {
    const index = marker.at - dropped
    if (index <= start || index >= trace.length) continue
    const px = Math.round((x(index - 1) + x(index)) / 2) + 0.5
    const gap = marker.kind === 'gap'
    if (gap) gapsDrawn++
    context.strokeStyle = gap ? '#ffb020' : '#5f9f7f'
    context.lineWidth = gap ? 2 : 1
    context.setLineDash(gap ? [6, 4] : [2, 4])
    context.beginPath()
    context.moveTo(px, PLOT.top)
    context.lineTo(px, canvas.height - PLOT.bottom)
    context.stroke()
    context.setLineDash([])
    context.fillStyle = gap ? '#ffb020' : '#5f9f7f'
    context.textAlign = 'left'
    context.textBaseline = 'top'
    context.fillText(marker.label, px + 4, PLOT.top + 2)
  }
  context.restore()
  state.gapsDrawn = gapsDrawn
  canvas.dataset.gapsDrawn = String(gapsDrawn)
}

function push (samples: readonly number[], marker?: Omit<Marker, 'at'>): void {
  if (marker !== undefined && received > 0) markers.push({ ...marker, at: received })
  trace.push(...samples)
  received += samples.length
  if (trace.length > 4 * WINDOW) {
    const drop = trace.length - 2 * WINDOW
    trace.splice(0, drop)
    dropped += drop
    markers = markers.filter((m) => m.at > dropped)
  }
}

function account (payload: unknown, envelope: unknown): void {
  // What the same message would cost as a JSON text frame.
  state.jsonBytes += new TextEncoder().encode(JSON.stringify({ type: 1, ...(envelope as object), payload })).length
  state.wireBytes = client.stats.wireBytesIn
  const saved = state.jsonBytes === 0 ? 0 : Math.round((1 - client.stats.wireBytesIn / state.jsonBytes) * 100)
  show('bytes', `${client.stats.wireBytesIn.toLocaleString()} bytes on the wire (${client.stats.bodyBytesIn.toLocaleString()} decoded), ${Math.abs(saved)}% ${saved < 0 ? 'more' : 'less'} than JSON`)
}

/** Follows the topic's seq (every event on it counts): a jump ahead means messages were lost. */
function followTopic (meta: EventMeta): void {
  if (meta.seq === undefined || last?.topicSeq === undefined) return
  if (meta.seq > last.topicSeq + 1) state.lostMessages += meta.seq - last.topicSeq - 1
  last.topicSeq = meta.seq
}

client.on('ecg.data', ({ patient_id, signal, seq }, meta) => {
  if (meta.topic !== topicOf(state.patient)) return // from the patient shown before
  let gap: Omit<Marker, 'at'> | undefined
  if (last !== undefined && seq !== last.dataSeq + 1) {
    // Batch k holds samples 25k to 25k + 24, so only batch k + 1 continues the trace.
    gap = { kind: 'gap', label: seq > last.dataSeq ? `gap: ${seq - last.dataSeq - 1} batches lost` : `gap: stream restarted (seq ${last.dataSeq} → ${seq})` }
    state.gaps++
    show('gaps', `${state.gaps} (last: ${gap.label.slice(5)})`)
  }
  followTopic(meta)
  // The first live batch does not continue the history (another clock): marked, not counted.
  push(signal, gap ?? (last === undefined ? { kind: 'live', label: 'live' } : undefined))
  last = { dataSeq: seq, topicSeq: meta.seq ?? last?.topicSeq }
  state.batches++
  state.lastSeq = seq
  state.lastPatientId = patient_id
  show('seq', String(seq))
  account({ signal }, meta.envelope)
  draw()
})
client.on('anomaly.alert', ({ kind, severity }, meta) => {
  if (meta.topic !== topicOf(state.patient)) return
  followTopic(meta)
  state.alerts++
  show('alert', `${severity}: ${kind}`)
})
client.on('ecg.annotation', (_payload, meta) => {
  if (meta.topic === topicOf(state.patient)) followTopic(meta)
})

/** Shows a patient: its heading and the URL, the last WINDOW samples, then its live trace. */
async function showPatient (patient: string, previous?: string): Promise<void> {
  const current = ++generation
  state.patient = patient
  trace = []
  dropped = 0
  received = 0
  markers = []
  last = undefined
  show('patient', patient)
  document.title = `${patient}: wirebox ECG monitor`
  if (!Array.from(select.options).some((o) => o.value === patient)) select.add(new Option(patient, patient))
  select.value = patient
  draw()
  if (previous !== undefined) {
    history.replaceState(null, '', `?patient=${encodeURIComponent(patient)}`)
    await client.unsubscribe(topicOf(previous)).catch(() => {})
  }
  const recent = await client.request('ecg.history', { patient_id: patient, samples: WINDOW })
  if (current !== generation) return
  state.historySamples = recent.signal.length
  push(recent.signal)
  account(recent, { event_type: 'ecg.history' })
  draw()
  await client.subscribe(topicOf(patient))
}

select.addEventListener('change', () => {
  const previous = state.patient
  if (select.value !== previous) showPatient(select.value, previous).catch((err: Error) => show('state', `error: ${err.message}`))
})

const negotiation = await client.ready()
state.negotiation = negotiation
show('negotiated', `${negotiation.encoding}, protocol v${negotiation.version}, ${negotiation.compression} above ${negotiation.compression_threshold} bytes`)
await showPatient(state.patient)
