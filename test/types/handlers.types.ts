/**
 * Type tests (checked by `tsc --noEmit`, part of `npm test`): handler arguments and return
 * types are inferred from the protocol's schemas; a wrong type does not compile.
 */
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol, NdArray } from '../../lib/index.js'
import type { EventPayload, RequestPayload, ResponsePayload } from '../../lib/index.js'

const protocol = defineProtocol({
  events: {
    'ecg.data': Type.Object({ patient_id: Type.String(), seq: Type.Integer(), signal: NdArray('float32') }),
    note: Type.Object({ text: Type.String() })
  },
  requests: {
    'ecg.history': {
      payload: Type.Object({ patient_id: Type.String(), samples: Type.Integer() }),
      response: Type.Object({ patient_id: Type.String(), signal: Type.Array(Type.Number()) })
    }
  }
})
type P = typeof protocol

// The inferred types are the schemas' Static types.
const payload: RequestPayload<P, 'ecg.history'> = { patient_id: 'p1', samples: 3 }
const response: ResponsePayload<P, 'ecg.history'> = { patient_id: 'p1', signal: [1, 2] }
const data: EventPayload<P, 'ecg.data'> = { patient_id: 'p1', seq: 1, signal: new Float32Array(25) }
// @ts-expect-error a number[] is not a Float32Array
const wrongData: EventPayload<P, 'ecg.data'> = { patient_id: 'p1', seq: 1, signal: [1, 2] }
// @ts-expect-error samples is a number
const wrongPayload: RequestPayload<P, 'ecg.history'> = { patient_id: 'p1', samples: '3' }

const app = Fastify()
await app.register(wirebox)
app.wirebox('/ws', { protocol }, (conn) => {
  conn.handle('ecg.history', ({ patient_id, samples }) => {
    const id: string = patient_id
    const n: number = samples
    return { patient_id: id, signal: new Array<number>(n).fill(0) }
  })
  // @ts-expect-error the response lacks `signal`
  conn.handle('ecg.history', ({ patient_id }) => ({ patient_id }))
  // @ts-expect-error `samples` is a number, not a string
  conn.handle('ecg.history', ({ samples }) => ({ patient_id: samples.toUpperCase(), signal: [] }))
  // @ts-expect-error not a request of this protocol
  conn.handle('ecg.unknown', () => ({}))
  conn.on('note', ({ text }) => { text.toUpperCase() })
  // @ts-expect-error `text` is a string
  conn.on('note', ({ text }) => { text.toFixed() })
  conn.send('ecg.data', { patient_id: 'p1', seq: 2, signal: new Float32Array(25) }, { priority: true }).catch(() => {})
  // @ts-expect-error seq is missing
  conn.send('ecg.data', { patient_id: 'p1', signal: new Float32Array(25) }).catch(() => {})
  // @ts-expect-error not an event of this protocol
  conn.send('ecg.history', payload).catch(() => {})
})

// The route's own handlers, typed the same way; the setup function is optional.
app.wirebox('/route-handlers', {
  protocol,
  handle: {
    'ecg.history': ({ patient_id, samples }, { connection }) => ({ patient_id: `${patient_id}@${connection.id}`, signal: new Array<number>(samples).fill(0) })
  },
  on: { note: ({ text }) => { text.toUpperCase() } }
})
// @ts-expect-error the response lacks `signal`
app.wirebox('/wrong-response', { protocol, handle: { 'ecg.history': ({ patient_id }) => ({ patient_id }) } })
// @ts-expect-error not a request of this protocol
app.wirebox('/unknown-request', { protocol, handle: { 'ecg.unknown': () => ({}) } })
// @ts-expect-error `text` is a string
app.wirebox('/wrong-event', { protocol, on: { note: ({ text }) => { text.toFixed() } } })

export { payload, response, data, wrongData, wrongPayload }
