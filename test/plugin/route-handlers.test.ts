/**
 * A route's own handlers (route options `handle` and `on`): declared once, shared by every
 * connection, checked when the route is declared; a connection's own handler takes their place
 * for that connection only; the setup function is optional.
 */
import { test } from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import type { WireboxConnection, WireboxRoute } from '../../lib/index.js'
import { createClient } from '../../lib/client/node.js'
import type { WireboxClient } from '../../lib/client/node.js'
import { listen, shutdown } from './test-client.js'
import { until } from '../helpers.js'

const protocol = defineProtocol({
  serverToClient: { 'note.seen': Type.Object({ text: Type.String() }) },
  clientToServer: { note: Type.Object({ text: Type.String() }) },
  requests: {
    add: { payload: Type.Object({ a: Type.Number(), b: Type.Number() }), response: Type.Object({ sum: Type.Number() }) },
    whoami: { payload: Type.Object({}), response: Type.Object({ id: Type.String() }) }
  }
})
type P = typeof protocol

async function start (t: Test, options: Omit<WireboxRoute<P>, 'protocol'>, setup?: (conn: WireboxConnection<P>) => void): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  app.wirebox('/ws', { protocol, ...options }, setup)
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  return { app, base }
}

async function client (t: Test, base: string): Promise<WireboxClient<P>> {
  const c = createClient<P>(`${base}/ws`, { protocol, reconnect: false })
  t.teardown(() => c.close())
  await c.ready()
  return c
}

test('route handlers answer every connection, with the caller as context.connection; no setup needed', async (t) => {
  const notes: Array<{ text: string, from: string }> = []
  const { app, base } = await start(t, {
    handle: {
      add: ({ a, b }) => ({ sum: a + b }),
      whoami: (_payload, { connection }) => ({ id: connection.id })
    },
    on: {
      note: async ({ text }, { connection }) => {
        notes.push({ text, from: connection.id })
        await connection.send('note.seen', { text: text.toUpperCase() })
      }
    }
  })
  const one = await client(t, base)
  const two = await client(t, base)
  t.same(await one.request('add', { a: 2, b: 3 }), { sum: 5 })
  t.same(await two.request('add', { a: 10, b: -4 }), { sum: 6 })
  const ids = [...app.wirebox.connections].map((c) => c.id).sort()
  const asked = [(await one.request('whoami', {})).id, (await two.request('whoami', {})).id]
  t.same([...asked].sort(), ids, 'each connection is named by its own context')
  t.not(asked[0], asked[1])
  const seen: string[] = []
  one.on('note.seen', ({ text }) => { seen.push(text) })
  await one.send('note', { text: 'hi' })
  await until(() => seen.length === 1)
  t.same(seen, ['HI'])
  t.same(notes, [{ text: 'hi', from: asked[0] }])
})

test("a connection's own handler takes the route's place for that connection only", async (t) => {
  let calls = 0
  const { base } = await start(t, { handle: { add: ({ a, b }) => ({ sum: a + b }) } }, (conn) => {
    calls++
    if (calls === 2) conn.handle('add', ({ a, b }) => ({ sum: a * b }))
  })
  const first = await client(t, base)
  await until(() => calls === 1)
  const second = await client(t, base)
  await until(() => calls === 2)
  t.same(await first.request('add', { a: 3, b: 4 }), { sum: 7 }, "the route's handler")
  t.same(await second.request('add', { a: 3, b: 4 }), { sum: 12 }, "the connection's own")
})

test('a request without a handler on the route or the connection is answered with an ERROR', async (t) => {
  const { base } = await start(t, { handle: { add: ({ a, b }) => ({ sum: a + b }) } })
  const c = await client(t, base)
  await t.rejects(c.request('whoami', {}), { code: 'WIREBOX_ERR_INTERNAL' })
  t.same(await c.request('add', { a: 1, b: 1 }), { sum: 2 }, 'the connection stays open')
})

test('route handlers are checked when the route is declared, and a refused route leaves nothing behind', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  t.teardown(() => app.close())
  const declare = (options: Record<string, unknown>): unknown => app.wirebox('/ws', { protocol, ...options } as WireboxRoute<P>)
  t.throws(() => declare({ handle: { nope: () => ({}) } }), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' }, 'an unknown request')
  t.throws(() => declare({ on: { nope: () => {} } }), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' }, 'an unknown event')
  t.throws(() => declare({ on: { 'note.seen': () => {} } }), { code: 'WIREBOX_ERR_WRONG_DIRECTION' }, "the server's own event")
  t.throws(() => declare({ handle: { add: 'not a function' } }), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /\/handle\/add must be a function/ })
  t.throws(() => declare({ on: [() => {}] }), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /\/on must be an object/ })
  t.throws(() => app.wirebox('/ws', { protocol }, 'setup' as never), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /setup/ })
  // The same path declared properly afterwards: nothing of the refused ones stayed.
  t.doesNotThrow(() => app.wirebox('/ws', { protocol, handle: { add: ({ a, b }) => ({ sum: a + b }) } }))
})

test('a handler left undefined is no handler (the types allow it), and the route answers without it', async (t) => {
  const enabled = false
  const { base } = await start(t, {
    handle: { add: ({ a, b }) => ({ sum: a + b }), whoami: enabled ? (_payload, { connection }) => ({ id: connection.id }) : undefined },
    on: { note: undefined }
  })
  const c = await client(t, base)
  t.same(await c.request('add', { a: 1, b: 2 }), { sum: 3 })
  await t.rejects(c.request('whoami', {}), { code: 'WIREBOX_ERR_INTERNAL' }, 'no handler: as if not given')
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  t.teardown(() => app.close())
  t.throws(() => app.wirebox('/typo', { protocol, handle: { nope: undefined } } as WireboxRoute<P>), { code: 'WIREBOX_ERR_UNKNOWN_EVENT' }, 'a name the protocol lacks is still refused')
})

test('handlers a `handle` or `on` object only inherits (a class instance, Object.create) are refused at declaration, not ignored', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(wirebox)
  t.teardown(() => app.close())
  class Handlers {
    add ({ a, b }: { a: number, b: number }): { sum: number } { return { sum: a + b } }
  }
  // Compiles (a class instance has the method): its handlers must not be silently dropped.
  t.throws(() => app.wirebox('/class', { protocol, handle: new Handlers() }), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /\/handle must be a plain object/ })
  const shared = { note: (): void => {} }
  t.throws(() => app.wirebox('/created', { protocol, on: Object.create(shared) as typeof shared }), { code: 'WIREBOX_ERR_INVALID_OPTION', message: /\/on must be a plain object/ })
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { add: ({ a, b }: { a: number, b: number }) => ({ sum: a + b }) })
  t.doesNotThrow(() => app.wirebox('/bare', { protocol, handle: bare } as WireboxRoute<P>), 'an object without a prototype (or a module namespace) is a plain one')
})
