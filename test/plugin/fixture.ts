/** A test app: a protocol with events and requests, and handlers that exercise every path. */
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol, errors } from '../../lib/index.js'
import type { WireboxPluginOptions, WireboxRoute } from '../../lib/index.js'

export const testProtocol = defineProtocol({
  events: {
    'chat.message': Type.Object({ room: Type.String(), text: Type.String({ maxLength: 100 }) }),
    'chat.echo': Type.Object({ room: Type.String(), text: Type.String() }),
    'server.notice': Type.Object({ text: Type.String() }),
    'bulk.data': Type.Object({ values: Type.Array(Type.Number()) })
  },
  requests: {
    'math.add': { payload: Type.Object({ a: Type.Number(), b: Type.Number() }), response: Type.Object({ sum: Type.Number() }) },
    'math.slow': { payload: Type.Object({ ms: Type.Integer({ minimum: 0 }) }), response: Type.Object({ done: Type.Boolean() }) },
    'fail.internal': { payload: Type.Object({}), response: Type.Object({}) },
    'fail.denied': { payload: Type.Object({}), response: Type.Object({}) },
    'fail.badResponse': { payload: Type.Object({}), response: Type.Object({ n: Type.Number() }) },
    'data.range': { payload: Type.Object({ count: Type.Integer({ minimum: 0 }) }), response: Type.Object({ values: Type.Array(Type.Number()) }) },
    'notify.ack': { payload: Type.Object({ text: Type.String() }), response: Type.Object({ acked: Type.Boolean() }) },
    'unhandled.request': { payload: Type.Object({}), response: Type.Object({}) }
  }
})

/** Builds an app with one route, /ws, on the test protocol. */
export async function buildApp (pluginOptions: WireboxPluginOptions = {}, routeOptions: Partial<WireboxRoute<typeof testProtocol>> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(wirebox, pluginOptions)
  app.wirebox('/ws', { protocol: testProtocol, ...routeOptions }, (conn) => {
    conn.handle('math.add', ({ a, b }) => ({ sum: a + b }))
    conn.handle('math.slow', async ({ ms }) => {
      await new Promise((resolve) => setTimeout(resolve, ms))
      return { done: true }
    })
    conn.handle('fail.internal', () => { throw new Error('database password is hunter2') })
    conn.handle('fail.denied', () => { throw new errors.WIREBOX_ERR_PERMISSION_DENIED('not your patient') })
    conn.handle('fail.badResponse', () => ({ n: 'not a number' }) as unknown as { n: number })
    conn.handle('data.range', ({ count }) => ({ values: Array.from({ length: count }, (_, i) => i * 0.5) }))
    conn.handle('notify.ack', async ({ text }) => {
      try {
        return { acked: await conn.send('server.notice', { text }, { ack: true, ackTimeoutMs: 500 }) }
      } catch {
        return { acked: false }
      }
    })
    conn.on('chat.message', async ({ room, text }) => {
      await conn.send('chat.echo', { room, text: text.toUpperCase() })
    })
  })
  return app
}
