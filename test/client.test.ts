import { test } from 'tap'
import { buildApp, testProtocol } from './plugin/fixture.js'
import { listen, shutdown } from './plugin/test-client.js'
import { createClient, WireboxRemoteError } from '../lib/client/node.js'
import type { ClientState, WireboxClient } from '../lib/client/node.js'
import { isWireboxError } from '../lib/index.js'

type P = typeof testProtocol
const clients: WireboxClient<P>[] = []
const open = (url: string, options: Parameters<typeof createClient<P>>[1] = {}): WireboxClient<P> => {
  const client = createClient<P>(url, { protocol: testProtocol, ...options })
  clients.push(client)
  return client
}
const closeAll = (): void => { for (const c of clients.splice(0)) c.close() }

test('every encoding, version and compression: requests, events, subscriptions, a large chunked response', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => { closeAll(); await app.close() })
  for (const encoding of ['messagepack', 'json'] as const) {
    for (const version of [1, 2, 3] as const) {
      for (const compression of ['gzip', 'deflate', 'none'] as const) {
        const client = open(`${base}/ws`, { encoding, version, compression })
        const n = await client.ready()
        t.match(n, { encoding, version, compression: version === 1 ? 'none' : compression })
        t.same(await client.request('math.add', { a: 1, b: 2 }), { sum: 3 })
        const echoed = new Promise((resolve) => client.on('chat.echo', (payload, meta) => resolve({ payload, topic: meta.topic })))
        await client.send('chat.message', { room: 'r', text: 'hi' })
        t.same(await echoed, { payload: { room: 'r', text: 'HI' }, topic: undefined })
        const ack = await client.subscribe(`t/${encoding}/${version}/${compression}`)
        t.equal(ack.seq, 0)
        const got = new Promise((resolve) => client.on('server.notice', (payload, meta) => resolve([payload, meta.seq])))
        await app.wirebox.publish(`t/${encoding}/${version}/${compression}`, 'server.notice', { text: 'topic' })
        t.same(await got, [{ text: 'topic' }, 1])
        t.equal(client.lastSeq(`t/${encoding}/${version}/${compression}`), 1, 'the client tracks seq per topic')
        client.close()
      }
    }
  }
  const big = open(`${base}/ws`)
  const range = await big.request('data.range', { count: 300_000 })
  t.equal(range.values.length, 300_000)
  t.equal(range.values[299_999], 149_999.5)
  t.ok(big.stats.bodyBytesIn > 2 * big.stats.wireBytesIn, `compressed: ${big.stats.wireBytesIn} bytes on the wire for ${big.stats.bodyBytesIn}`)
})

test('typed errors, timeouts, and outgoing validation before sending', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => { closeAll(); await app.close() })
  const client = open(`${base}/ws`)
  await client.ready()
  const denied = await client.request('fail.denied', {}).catch((e: unknown) => e)
  t.ok(denied instanceof WireboxRemoteError)
  t.equal((denied as WireboxRemoteError).wireCode, 0x203)
  const unvalidated = open(`${base}/ws`, { validateOutgoing: false })
  const missing = await unvalidated.request('math.add', { a: 1 } as never).then(() => undefined, (e: unknown) => e as WireboxRemoteError)
  t.equal(missing?.wireCode, 0x201)
  t.same(missing?.details, { path: '/payload/b', event_type: 'math.add', problems: [{ path: '/payload/b', message: 'Expected required property' }] })
  t.match(missing, { code: 'WIREBOX_ERR_MISSING_FIELDS', eventType: 'math.add', path: '/payload/b' })
  const before = app.wirebox.metrics().total.messagesIn.REQUEST ?? 0
  const refused = await client.request('math.add', { a: 1, b: 'x' } as never).catch((e: unknown) => e)
  t.ok(isWireboxError(refused), 'refused locally with a catalog error')
  t.equal((refused as { code: string }).code, 'WIREBOX_ERR_INVALID_PAYLOAD')
  await t.rejects(client.send('chat.message', { room: 'r', text: 'x'.repeat(101) }), { code: 'WIREBOX_ERR_INVALID_PAYLOAD' })
  t.equal(app.wirebox.metrics().total.messagesIn.REQUEST ?? 0, before, 'nothing was sent')
  await t.rejects(client.request('math.slow', { ms: 500 }, { timeoutMs: 50 }), { code: 'WIREBOX_ERR_REQUEST_TIMEOUT' })
})

test('ACKs both ways and validation of incoming payloads', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => { closeAll(); await app.close() })
  const client = open(`${base}/ws`, { validateIncoming: true })
  await client.send('chat.message', { room: 'r', text: 'ack me' }, { ack: true })
  t.pass('send with ack resolved on the server\'s ACK')
  const notices: string[] = []
  client.on('server.notice', ({ text }) => { notices.push(text) })
  t.same(await client.request('notify.ack', { text: 'please ack' }), { acked: true }, 'the client ACKs after its listeners ran')
  t.same(notices, ['please ack'])
  const errorsSeen: Error[] = []
  client.onError((e) => errorsSeen.push(e))
  await client.subscribe('v')
  await app.wirebox.publish('v', 'server.notice', { text: 'ok' })
  const v1 = open(`${base}/ws`, { version: 2 })
  await t.rejects(v1.send('chat.message', { room: 'r', text: 'x' }, { ack: true }), { code: 'WIREBOX_ERR_ACK_UNSUPPORTED' })
  t.same(errorsSeen, [])
})

test('reconnects after the server restarts, re-subscribes, and keeps state events', async (t) => {
  let app = await buildApp({ heartbeatIntervalMs: 0 })
  const base = await listen(app)
  const port = Number(new URL(base.replace('ws', 'http')).port)
  t.teardown(async () => { closeAll(); await app.close() })
  const client = open(`${base}/ws`, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } })
  const states: ClientState[] = []
  client.onStateChange((s) => states.push(s))
  await client.ready()
  await client.subscribe('news')
  const received: string[] = []
  client.on('server.notice', ({ text }) => { received.push(text) })
  await app.wirebox.publish('news', 'server.notice', { text: 'before' })
  const pending = client.request('math.slow', { ms: 2000 })
  await new Promise((resolve) => setTimeout(resolve, 50))
  await app.close()
  await t.rejects(pending, { code: 'WIREBOX_ERR_CONNECTION_CLOSED' }, 'what was in flight rejects clearly')
  const queued = client.request('math.add', { a: 5, b: 5 }) // made while reconnecting: queued
  app = await buildApp({ heartbeatIntervalMs: 0 })
  await app.listen({ port, host: '127.0.0.1' })
  t.same(await queued, { sum: 10 }, 'the queued request is sent after the reconnection')
  while (app.wirebox.subscriberCount('news') === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  await app.wirebox.publish('news', 'server.notice', { text: 'after' })
  while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(received, ['before', 'after'], 'the subscription came back')
  t.same(states.slice(0, 3), ['open', 'reconnecting', 'open'])
})

test('without queueing, calls fail at once while disconnected; close rejects everything', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => { closeAll(); await app.close() })
  const client = open(`${base}/ws`, { queueWhileConnecting: false })
  await t.rejects(client.request('math.add', { a: 1, b: 1 }), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' }, 'not yet open')
  await client.ready()
  t.same(await client.request('math.add', { a: 1, b: 1 }), { sum: 2 })
  const slow = client.request('math.slow', { ms: 1000 })
  client.close()
  await t.rejects(slow, { code: 'WIREBOX_ERR_CONNECTION_CLOSED' })
  await t.rejects(client.request('math.add', { a: 1, b: 1 }), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' })
  t.equal(client.state, 'closed')
  const gone = open('ws://127.0.0.1:9/ws', { reconnect: { maxAttempts: 2, initialDelayMs: 5 } })
  await t.rejects(gone.ready(), { code: 'WIREBOX_ERR_CONNECTION_CLOSED' }, 'gives up after maxAttempts')
  t.equal(gone.state, 'closed')
})

test('browser entry: validation is opt-in (no validator: sent as is; with validatePayload: refused before sending)', async (t) => {
  const { createClient: createBrowserClient } = await import('../lib/client/browser.js')
  const { validatePayload } = await import('../lib/client/validate.js')
  const { default: WebSocket } = await import('ws')
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => await shutdown(app))
  const WebSocketClass = WebSocket as unknown as import('../lib/client/client.js').WebSocketClass
  const plain = createBrowserClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, WebSocket: WebSocketClass, reconnect: false })
  const refused = await plain.request('math.add', { a: 1, b: 'two' } as unknown as { a: number, b: number }).catch((err: unknown) => err)
  t.match(refused, { name: 'WireboxRemoteError', wireCode: 0x200 }, 'without a validator the server refuses it')
  const checked = createBrowserClient<typeof testProtocol>(`${base}/ws`, { protocol: testProtocol, WebSocket: WebSocketClass, validator: validatePayload, reconnect: false })
  await t.rejects(checked.request('math.add', { a: 1, b: 'two' } as unknown as { a: number, b: number }), { code: 'WIREBOX_ERR_INVALID_PAYLOAD' }, 'with validatePayload it is refused before sending')
  t.same(await checked.request('math.add', { a: 1, b: 2 }), { sum: 3 })
  plain.close()
  checked.close()
})

test('a WebSocket whose binaryType setter throws on unknown values (React Native) gets ArrayBuffers; a throwing error listener stops neither the others nor the client', async (t) => {
  const { default: WebSocket } = await import('ws')
  // As React Native's: 'blob' at first, and a setter that throws on anything but 'blob' and
  // 'arraybuffer' (ws's own accessor underneath, which hands over ArrayBuffers once asked).
  const accessor = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'binaryType') as PropertyDescriptor
  function StrictBinaryType (url: string): unknown {
    const socket = new WebSocket(url)
    let current = 'blob'
    Object.defineProperty(socket, 'binaryType', {
      get: () => current,
      set: (value: string) => {
        if (value !== 'blob' && value !== 'arraybuffer') throw new TypeError("binaryType must be either 'blob' or 'arraybuffer'")
        current = value
        if (value === 'arraybuffer') accessor.set?.call(socket, value)
      }
    })
    return socket
  }
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(async () => { closeAll(); await app.close() })
  const client = open(`${base}/ws`, { WebSocket: StrictBinaryType as never, validateOutgoing: false })
  await client.ready()
  t.same(await client.request('math.add', { a: 2, b: 3 }), { sum: 5 }, 'binary frames read as ArrayBuffers')
  client.onError(() => { throw new Error('a listener that throws') })
  const heard = new Promise<string | undefined>((resolve) => client.onError((err) => resolve((err as { code?: string }).code)))
  // An event the server refuses (text over its maxLength), sent without an ACK: the refusal
  // reaches the error listeners; the one that throws stops neither the other nor the client.
  await client.send('chat.message', { room: 'r', text: 'x'.repeat(200) })
  t.equal(await heard, 'WIREBOX_ERR_INVALID_PAYLOAD')
  for (let i = 0; i < 3; i++) t.same(await client.request('math.add', { a: i, b: 1 }), { sum: i + 1 }, 'the client goes on')
})
