/**
 * Tracing through node:diagnostics_channel: connection open/close, messages in and out (type,
 * event name, sizes), request start/end/error, as README "Tracing" documents them.
 */
import { test } from 'tap'
import diagnostics from 'node:diagnostics_channel'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, listen, shutdown } from './test-client.js'

const NAMES = ['connection:open', 'connection:close', 'message:in', 'message:out', 'request:start', 'request:end', 'request:error'] as const

test('diagnostics channels report connections, messages and requests', async (t) => {
  const seen: Record<string, Array<Record<string, unknown>>> = {}
  const listeners = NAMES.map((name) => {
    const listener = (message: unknown): void => { (seen[name] ??= []).push(message as Record<string, unknown>) }
    diagnostics.subscribe(`wirebox:${name}`, listener)
    return { name, listener }
  })
  t.teardown(() => { for (const { name, listener } of listeners) diagnostics.unsubscribe(`wirebox:${name}`, listener) })
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const client = await TestClient.connect(`${base}/ws?encoding=messagepack&compression=none`)
  const negotiation = await client.ready()
  t.same((await client.request('math.add', { a: 1, b: 2 })).envelope?.payload, { sum: 3 })
  t.equal((await client.request('fail.internal', {})).type, MessageType.ERROR)
  await client.send(MessageType.EVENT, { event_type: 'chat.message', payload: { room: 'r', text: 'hi' } })
  await client.next((m) => m.envelope?.event_type === 'chat.echo')
  client.close()
  await new Promise((resolve) => setTimeout(resolve, 100))

  const session = negotiation.session_id
  t.match(seen['connection:open'], [{ session, path: '/ws', encoding: 'messagepack', version: 3, compression: 'none' }])
  t.match(seen['connection:close'], [{ session, path: '/ws', code: Number }])
  const request = seen['message:in']?.find((m) => m.eventType === 'math.add')
  t.match(request, { session, type: MessageType.REQUEST, wireBytes: Number, bodyBytes: Number }, 'a request read, with its sizes')
  t.ok((request?.wireBytes as number) > (request?.bodyBytes as number), 'wire bytes include the frame header')
  const response = seen['message:out']?.find((m) => m.eventType === 'math.add')
  t.match(response, { session, type: MessageType.RESPONSE, wireBytes: Number, bodyBytes: Number }, 'its response written')
  t.ok(seen['message:out']?.some((m) => m.type === MessageType.EVENT && m.eventType === 'chat.echo'), 'an event written')
  t.match(seen['request:start'], [{ session, eventType: 'math.add', id: Number }, { eventType: 'fail.internal' }])
  t.match(seen['request:end'], [{ session, eventType: 'math.add', durationMs: Number }])
  t.match(seen['request:error'], [{ eventType: 'fail.internal', durationMs: Number, error: Error }])
})
