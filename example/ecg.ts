/** A synthetic ECG: a heartbeat-like waveform at 250 Hz, deterministic per patient and sample. */

/** Samples per second, typed as the literal (an object keeps it): the protocol's `sampling_rate` is `Type.Literal(250)`. */
export const SAMPLING_RATE: 250 = 250

function hash (text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0) / 0xffffffff
}

/** Sample `n` of a patient's trace (millivolts, 3 decimals). */
export function sample (patientId: string, n: number): number {
  const bpm = 60 + Math.round(hash(patientId) * 40)
  const period = (60 / bpm) * SAMPLING_RATE
  const phase = (n % period) / period
  const qrs = Math.exp(-(((phase - 0.3) / 0.012) ** 2)) * 1.2 - Math.exp(-(((phase - 0.33) / 0.01) ** 2)) * 0.3
  const p = Math.exp(-(((phase - 0.15) / 0.03) ** 2)) * 0.15
  const t = Math.exp(-(((phase - 0.6) / 0.06) ** 2)) * 0.3
  const noise = Math.sin(n * 0.37 + hash(patientId) * 10) * 0.01
  return Math.round((qrs + p + t + noise) * 1000) / 1000
}

/** `count` samples ending at sample `end` (exclusive). */
export function samples (patientId: string, end: number, count: number): number[] {
  const out = new Array<number>(count)
  const start = end - count
  for (let i = 0; i < count; i++) out[i] = sample(patientId, start + i)
  return out
}
