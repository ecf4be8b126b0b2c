/**
 * The ECG monitor's protocol. Tests outside the project rely on these names.
 */
import { Type } from '@sinclair/typebox'
import { defineProtocol } from '../lib/protocol.js'
import { QuantizedArray } from '../schemas/wire-types.js'

const PatientId = Type.String({ minLength: 1, maxLength: 64 })

/** The ECG example's protocol. */
export const protocol = defineProtocol({
  /** What the server sends: live data on patient topics, alerts, and notes. */
  serverToClient: {
    /** 25 samples (a tenth of a second at 250 Hz) for a patient, on topic `ecg/<patient_id>`. */
    'ecg.data': Type.Object({
      patient_id: PatientId,
      seq: Type.Integer({ minimum: 0 }),
      sampling_rate: Type.Integer({ minimum: 1 }),
      /** Millivolts with 3 decimals: msgpack-compact sends counts of 0.001 mV, delta-coded. */
      signal: QuantizedArray(0.001, { delta: true, minItems: 25, maxItems: 25 })
    }),
    /** An anomaly, sent with the PRIORITY flag. */
    'anomaly.alert': Type.Object({
      patient_id: PatientId,
      kind: Type.String(),
      severity: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
      seq: Type.Integer({ minimum: 0 })
    }),
    /** A note on a patient, published by `ecg.annotate`. */
    'ecg.annotation': Type.Object({ patient_id: PatientId, note: Type.String() })
  },
  /** What clients send without asking for an answer. */
  clientToServer: {
    /** A clinician has seen the `anomaly.alert` with this `seq` (the server logs it). */
    'anomaly.seen': Type.Object({ patient_id: PatientId, seq: Type.Integer({ minimum: 0 }) })
  },
  requests: {
    /** The last `samples` samples of a patient at 250 Hz. */
    'ecg.history': {
      payload: Type.Object({ patient_id: PatientId, samples: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }),
      response: Type.Object({ patient_id: PatientId, sampling_rate: Type.Literal(250), signal: QuantizedArray(0.001, { delta: true }) })
    },
    /** Adds a note; published as `ecg.annotation` to topic `ecg/<patient_id>`. */
    'ecg.annotate': {
      payload: Type.Object({ patient_id: PatientId, note: Type.String({ maxLength: 10_000 }) }),
      response: Type.Object({ ok: Type.Literal(true) })
    }
  }
})
