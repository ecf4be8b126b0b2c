/**
 * A silent server is left. The client watches the server's heartbeat (PROTOCOL.md section 1, "Heartbeat"): a server
 * silent for two of its negotiated intervals is gone, and the client closes the connection
 * itself; a server that pings keeps it open. One timer serves every connection
 * (lib/session/ticker.ts). A server that accepts a connection and never negotiates (or never
 * answers the upgrade) is left after `connectTimeoutMs`.
 */
import { test } from 'tap'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { WebSocketServer } from 'ws'
import type { Server, Socket } from 'node:net'
import { WebSocket } from 'ws'
import { createClient } from '../lib/client/node.js'
import type { WebSocketClass, WireboxClient } from '../lib/client/node.js'
import { buildApp, testProtocol } from './plugin/fixture.js'
import { listen } from './plugin/test-client.js'
import { until } from './helpers.js'

/** A TCP proxy to `port` that, once muted, forwards nothing more to the client and never closes it. */
async function proxy (port: number): Promise<{ server: Server, port: number, mute: () => void, toClient: Socket[] }> {
  let muted = false
  const toClient: Socket[] = []
  const server = createServer((client) => {
    toClient.push(client)
    const upstream = connect(port, '127.0.0.1')
    client.on('data', (d) => upstream.write(d))
    upstream.on('data', (d) => { if (!muted) client.write(d) })
    client.on('close', () => upstream.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port, mute: () => { muted = true }, toClient }
}

test('a client closes the connection of a server that stopped pinging, and keeps the ones that ping', async (t) => {
  const app = await buildApp({ heartbeatIntervalMs: 25 })
  const base = await listen(app)
  const silent = await proxy(Number(new URL(base).port))
  t.teardown(async () => {
    for (const s of silent.toClient) s.destroy()
    silent.server.close()
    await app.close()
  })
  const open = (url: string): WireboxClient<typeof testProtocol> => {
    const client = createClient<typeof testProtocol>(`${url}/ws`, { protocol: testProtocol, reconnect: false })
    t.teardown(() => client.close())
    return client
  }
  const quiet = open(`ws://127.0.0.1:${silent.port}`)
  const lively = open(base)
  await Promise.all([quiet.ready(), lively.ready()])
  t.same(await quiet.request('math.add', { a: 1, b: 1 }), { sum: 2 })
  silent.mute()
  // The proxy never closes its side: only the client's own watch can end the connection.
  const clientSide = silent.toClient[0] as Socket
  await until(() => quiet.state === 'closed', 5000)
  await until(() => clientSide.destroyed || clientSide.readableEnded, 5000)
  t.pass('the client closed the connection to the silent server')
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(lively.state, 'open', 'several intervals later, the connection to the pinging server is open')
  t.same(await lively.request('math.add', { a: 2, b: 3 }), { sum: 5 })
})

// A WebSocket without terminate (a browser's, Node 22's global one): its close waits for the
// server's answer, which a gone server never sends (ws waits 30 s; undici has no limit).
class NoTerminate extends WebSocket {
  constructor (url: string, protocols?: string | string[]) {
    super(url, protocols)
    Object.defineProperty(this, 'terminate', { value: undefined })
  }
}

test('a silent server is left at once even when the socket cannot be terminated', async (t) => {
  const app = await buildApp({ heartbeatIntervalMs: 25 })
  const base = await listen(app)
  const silent = await proxy(Number(new URL(base).port))
  const client = createClient<typeof testProtocol>(`ws://127.0.0.1:${silent.port}/ws`, {
    protocol: testProtocol,
    reconnect: { initialDelayMs: 10, maxDelayMs: 10 },
    WebSocket: NoTerminate as unknown as WebSocketClass
  })
  t.teardown(async () => {
    client.close()
    for (const s of silent.toClient) s.destroy()
    silent.server.close()
    await app.close()
  })
  await client.ready()
  const states: string[] = []
  client.onStateChange((state) => { states.push(state) })
  const pending = client.request('math.slow', { ms: 1000 }, { timeoutMs: 60_000 })
  pending.catch(() => {})
  silent.mute()
  await until(() => states.includes('reconnecting'), 5000)
  await t.rejects(pending, { code: 'WIREBOX_ERR_CONNECTION_CLOSED', message: /4000/ }, 'what was in flight is rejected with the heartbeat timeout')
})

test('a server that accepts and never negotiates, or never answers the upgrade, is left after connectTimeoutMs and tried again', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  let upgraded = 0
  wss.on('connection', () => { upgraded++ })
  let accepted = 0
  const mute = createServer(() => { accepted++ }) // takes the TCP connection, answers nothing
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    mute.close()
  })
  for (const [url, tries] of [[`ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws`, () => upgraded], [`ws://127.0.0.1:${(mute.address() as { port: number }).port}/ws`, () => accepted]] as const) {
    const reported: Error[] = []
    const client = createClient(url, { connectTimeoutMs: 50, reconnect: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 1 } })
    client.onError((err) => { reported.push(err) })
    t.teardown(() => client.close())
    await t.rejects(client.ready(), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' }, 'ready() rejects once the attempts are spent')
    t.equal(client.state, 'closed')
    t.equal(tries(), 2, 'the first attempt and the one reconnection')
    t.equal(reported.length, 2)
    t.match(reported[0]?.message, /no negotiation within 50 ms/)
  }
})

test('connectTimeoutMs must be 0 or more milliseconds', async (t) => {
  for (const bad of [-1, 'soon', Number.NaN]) {
    t.throws(() => createClient('ws://127.0.0.1:1/ws', { connectTimeoutMs: bad as number, reconnect: false }), { code: 'WIREBOX_ERR_INVALID_OPTION' }, String(bad))
  }
})

test("a server's heartbeat interval beyond a timer's longest delay is watched at that delay, not every millisecond", async (t) => {
  const app = await buildApp({ heartbeatIntervalMs: 2 ** 40 })
  const base = await listen(app)
  t.teardown(async () => await app.close())
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { if (w.name === 'TimeoutOverflowWarning') warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const client = createClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, reconnect: false })
  t.teardown(() => client.close())
  t.equal((await client.ready()).heartbeat_interval_ms, 2 ** 40)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(warnings, [], 'no timer was asked for more than it can wait (Node would fire it every millisecond)')
  t.equal(client.state, 'open')
})
