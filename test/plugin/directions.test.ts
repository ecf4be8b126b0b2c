/**
 * Events and directions (PROTOCOL.md section 1): each end sends only its own events; a refusal
 * names the event and, with ACK_REQUIRED, answers that send; remote errors carry the catalog's
 * name, the failing path, every problem and the values an enum allows (section 7).
 */
import { test } from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol, errors, isWireboxError } from '../../lib/index.js'
import type { Publisher } from '../../lib/index.js'
import { createClient, WireboxRemoteError } from '../../lib/client/node.js'
import type { WireboxClient } from '../../lib/client/node.js'
import { listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

enum Level { Info = 'info', Warn = 'warn' }

const protocol = defineProtocol({
  serverToClient: { tick: Type.Object({ n: Type.Integer() }) },
  clientToServer: {
    report: Type.Object({
      severity: Type.Union([Type.Literal('low'), Type.Literal('high')]),
      level: Type.Enum(Level),
      count: Type.Integer(),
      name: Type.String()
    }),
    boom: Type.Object({})
  },
  events: { chat: Type.Object({ text: Type.String() }) }
})
type P = typeof protocol

interface Setup { app: FastifyInstance, base: string, publisher: Publisher<P>, reports: unknown[], serverErrors: unknown[] }

async function setup (t: Test): Promise<Setup> {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  const reports: unknown[] = []
  const serverErrors: unknown[] = []
  const publisher = app.wirebox('/ws', { protocol }, (conn) => {
    conn.on('report', (payload) => { reports.push(payload) })
    conn.on('boom', () => { throw new errors.WIREBOX_ERR_PERMISSION_DENIED('no booms here') })
    conn.on('chat', async ({ text }) => { await conn.send('chat', { text: text.toUpperCase() }) })
    // The server may not send a client's event, nor listen to its own.
    conn.send('report' as never, {} as never).catch((err: unknown) => serverErrors.push(err))
    try {
      conn.on('tick' as never, () => {})
    } catch (err) {
      serverErrors.push(err)
    }
  })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  return { app, base, publisher, reports, serverErrors }
}

/** A client that validates nothing (as a client with an older protocol, or another implementation). */
function unchecked (t: Test, base: string): { client: WireboxClient, errors: Error[] } {
  const client = createClient(`${base}/ws`, { reconnect: false })
  t.teardown(() => client.close())
  const errors: Error[] = []
  client.onError((err) => errors.push(err))
  return { client, errors }
}

test('a client sending a server event gets WIREBOX_ERR_WRONG_DIRECTION: with an ACK on its send, else through onError with the event name', async (t) => {
  const { base } = await setup(t)
  const { client, errors: reported } = unchecked(t, base)
  const answered = await client.send('tick', { n: 1 }, { ack: true }).then(() => undefined, (err: unknown) => err)
  t.ok(answered instanceof WireboxRemoteError, 'the ACK_REQUIRED send rejects with the refusal')
  t.match(answered, { code: 'WIREBOX_ERR_WRONG_DIRECTION', wireCode: 0x200, eventType: 'tick', message: 'Event "tick" is sent only by the server; a client may not send it' })
  t.same(reported, [], 'an answered send is not reported again')

  await client.send('tick', { n: 2 }) // fire and forget: resolves once written
  await until(() => reported.length === 1)
  const [refusal] = reported
  t.ok(refusal instanceof WireboxRemoteError)
  t.match(refusal, { code: 'WIREBOX_ERR_WRONG_DIRECTION', wireCode: 0x200, eventType: 'tick', details: { event_type: 'tick' } }, 'onError names the refused event')

  await client.send('nothing.like.it', {})
  await until(() => reported.length === 2)
  t.match(reported[1], { code: 'WIREBOX_ERR_UNKNOWN_EVENT', wireCode: 0x200, eventType: 'nothing.like.it' }, 'an unknown event: its own code')

  const echoed = new Promise((resolve) => client.on('chat', resolve))
  await client.send('chat', { text: 'still here' })
  t.same(await echoed, { text: 'STILL HERE' }, 'the connection stays open; `events` go both ways')
})

test('the typed client refuses a server event before sending it, and does not listen for its own events', async (t) => {
  const { base } = await setup(t)
  const client = createClient<P>(`${base}/ws`, { protocol, reconnect: false })
  t.teardown(() => client.close())
  await client.ready()
  const sent = client.stats.messagesOut
  const local = await client.send('tick' as never, { n: 1 } as never).then(() => undefined, (err: unknown) => err)
  t.ok(isWireboxError(local), 'a local catalog error')
  t.match(local, { code: 'WIREBOX_ERR_WRONG_DIRECTION', message: /sent only by the server/ })
  await t.rejects(client.send('nope' as never, {} as never), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' })
  t.equal(client.stats.messagesOut, sent, 'nothing went out')
  await client.send('report', { severity: 'low', level: Level.Info, count: 1, name: 'ok' }, { ack: true })
})

test('the server may not send a client event, listen to its own, or publish a client event', async (t) => {
  const { app, base, publisher, serverErrors } = await setup(t)
  const client = createClient<P>(`${base}/ws`, { protocol, reconnect: false })
  t.teardown(() => client.close())
  await client.ready()
  await until(() => serverErrors.length === 2)
  const messages = serverErrors.map((err) => isWireboxError(err) ? `${err.code}: ${err.message}` : String(err)).sort()
  t.same(messages, [
    'WIREBOX_ERR_WRONG_DIRECTION: Event "report" is sent only by clients; the server may not send it',
    'WIREBOX_ERR_WRONG_DIRECTION: Event "tick" is sent only by the server; a client may not send it'
  ], 'conn.send of a client event rejects; conn.on of a server event throws')

  await t.rejects(publisher.publish('room', 'report' as never, {} as never), { code: 'WIREBOX_ERR_WRONG_DIRECTION' }, 'the typed publisher')
  await t.rejects(app.wirebox.publish('room', 'report', {}), { code: 'WIREBOX_ERR_WRONG_DIRECTION' }, 'the untyped publish')
  await t.rejects(app.wirebox.publisher(protocol).publish('room', 'nope' as never, {} as never), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' })
  await t.rejects(app.wirebox.publish('room', 'nope', {}), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' })

  await client.subscribe('room')
  const got = new Promise((resolve) => client.on('tick', (payload, meta) => resolve([payload, meta.topic, meta.seq])))
  t.match(await publisher.publish('room', 'tick', { n: 7 }), { seq: 1, delivered: 1 })
  t.same(await got, [{ n: 7 }, 'room', 1], 'a server event reaches the subscribers')
  await t.rejects(publisher.publish('room', 'tick', { n: 'seven' } as never), { code: 'WIREBOX_ERR_INVALID_PAYLOAD' }, 'payloads are still validated')
})

test('a refused payload: the catalog code, the first path, every problem, and the values an enum or a union of literals allows', async (t) => {
  const { base, reports } = await setup(t)
  const { client, errors: reported } = unchecked(t, base)
  const bad = { severity: 'medium', level: 'debug', count: 1.5, name: 'n' }
  const refusal = await client.send('report', bad, { ack: true }).then(() => undefined, (err: unknown) => err)
  t.ok(refusal instanceof WireboxRemoteError)
  t.match(refusal, {
    code: 'WIREBOX_ERR_INVALID_PAYLOAD',
    wireCode: 0x200,
    eventType: 'report',
    path: '/payload/severity',
    message: /Invalid payload for "report": \/payload\/severity: Expected one of "low", "high" \(and 2 more problems\)/
  })
  t.same((refusal as WireboxRemoteError).problems, [
    { path: '/payload/severity', message: 'Expected one of "low", "high"', allowed: ['low', 'high'] },
    { path: '/payload/level', message: 'Expected one of "info", "warn"', allowed: ['info', 'warn'] },
    { path: '/payload/count', message: 'Expected integer' }
  ], 'every problem')

  const missing = await client.send('report', { ...bad, name: undefined }, { ack: true }).then(() => undefined, (err: unknown) => err)
  t.match(missing, { code: 'WIREBOX_ERR_MISSING_FIELDS', wireCode: 0x201, path: '/payload/name', message: /Missing required field \/payload\/name \(and 3 more problems\)/ })
  t.same((missing as WireboxRemoteError).problems.map((p) => p.path), ['/payload/name', '/payload/severity', '/payload/level', '/payload/count'], 'a missing property is reported once, with the others')

  await client.send('report', { severity: 'low', level: 'info', count: 1 }) // fire and forget, `name` missing
  await until(() => reported.length === 1)
  t.match(reported[0], { code: 'WIREBOX_ERR_MISSING_FIELDS', wireCode: 0x201, eventType: 'report', path: '/payload/name', problems: [{ path: '/payload/name' }] })

  await client.send('boom', {}) // a handler refusing a fire-and-forget event
  await until(() => reported.length === 2)
  t.match(reported[1], { code: 'WIREBOX_ERR_PERMISSION_DENIED', wireCode: 0x203, eventType: 'boom', message: 'Permission denied: no booms here' })
  t.same(reports, [], 'no invalid report reached the handler')
})

test('WireboxRemoteError reads what a server sent defensively', async (t) => {
  const plain = new WireboxRemoteError({ code: 0x200, message: 'old server' })
  t.match(plain, { code: undefined, wireCode: 0x200, eventType: undefined, path: undefined, problems: [] })
  const odd = new WireboxRemoteError({
    code: 0x200,
    error: 'WIREBOX_ERR_INVALID_PAYLOAD',
    message: 'x',
    details: { event_type: 5, path: ['no'], problems: [null, 'x', { path: '/a', message: 'm', allowed: ['a', {}, 2] }, { path: 1, message: 'm' }] }
  })
  t.match(odd, { code: 'WIREBOX_ERR_INVALID_PAYLOAD', eventType: undefined, path: undefined })
  t.same(odd.problems, [{ path: '/a', message: 'm', allowed: ['a', 2] }], 'only well-formed problems, only primitive allowed values')
})
