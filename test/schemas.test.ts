import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { NdArray, DateTime, Bytes, EnvelopeCheck, NegotiationCheck, ErrorPayloadCheck, SubscriptionCheck, SubscriptionAckCheck, createMessagePackCodec, createJsonCodec } from '../lib/index.js'

test('TypeBox schemas declare Dates, bytes and typed arrays, and check decoded values', async (t) => {
  const Sample = Type.Object({ at: DateTime(), raw: Bytes(), signal: NdArray('float32', { maxLength: 25 }) })
  const check = TypeCompiler.Compile(Sample)
  const value: Static<typeof Sample> = { at: new Date(), raw: new Uint8Array([1]), signal: new Float32Array(25) }
  for (const codec of [createMessagePackCodec(), createJsonCodec()]) {
    t.ok(check.Check(codec.decode(codec.encode(value))), `${codec.name}: the decoded value passes`)
  }
  t.notOk(check.Check({ ...value, signal: new Float64Array(25) }), 'wrong dtype')
  t.notOk(check.Check({ ...value, signal: new Float32Array(26) }), 'too long')
  t.notOk(check.Check({ ...value, signal: [1, 2] }), 'a plain array is not a Float32Array')
  t.notOk(check.Check({ ...value, at: '2024-01-01' }), 'an ISO string is not a Date')
  t.throws(() => NdArray('float16' as 'float32'), TypeError)
})

test('the protocol\'s own message schemas', async (t) => {
  t.ok(EnvelopeCheck.Check({ event_type: 'x', timestamp: 1, payload: { a: 1 }, id: 4294967295, topic: 't', seq: 0 }))
  t.notOk(EnvelopeCheck.Check({ event_type: 'x', timestamp: 1, id: 4294967296 }), 'id is a u32')
  t.notOk(EnvelopeCheck.Check({ event_type: 'x', timestamp: 1.5 }), 'timestamp is an integer')
  t.ok(NegotiationCheck.Check({ encoding: 'messagepack', version: 3, compression: 'gzip', compression_threshold: 1024, max_message_size: 1, heartbeat_interval_ms: 30000, session_id: 's', fallback: false }))
  t.notOk(NegotiationCheck.Check({ encoding: 'xml', version: 3, compression: 'gzip', compression_threshold: 1024, max_message_size: 1, heartbeat_interval_ms: 30000, session_id: 's', fallback: false }))
  t.ok(ErrorPayloadCheck.Check({ code: 0x201, message: 'm', details: { path: '/a' } }))
  t.notOk(ErrorPayloadCheck.Check({ code: 1, message: 'm' }))
  t.ok(SubscriptionCheck.Check({ topic: 'ecg/p1', since: 3 }))
  t.notOk(SubscriptionCheck.Check({ topic: '' }))
  t.ok(SubscriptionAckCheck.Check({ topic: 'ecg/p1', seq: 9, recovered: false, first_seq: 4 }))
})
