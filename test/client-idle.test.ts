/**
 * A client idle since its negotiation holds little: its event names and topics in a small array
 * until it has more than a few (FEW), one listener of an event without an array, and, with `ws`,
 * socket listeners shared by every connection (each finds its connection on the socket). What
 * an idle client made small still works when the client first needs more of it, and each
 * client's parts are its own.
 */
import { test } from 'tap'
import WebSocket from 'ws'
import { buildApp, testProtocol } from './plugin/fixture.js'
import { listen } from './plugin/test-client.js'
import { attachWs, createClient, isWireboxError, WireboxRemoteError } from '../lib/client/node.js'
import type { WebSocketLike, WireboxClient } from '../lib/client/node.js'
import type { Connection } from '../lib/client/connection.js'
import { FEW } from '../lib/session/few-map.js'
import { until } from './helpers.js'

type P = typeof testProtocol

test('idle clients: more event names and topics than a few still work, and are each client\'s own', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  const a = createClient<P>(`${base}/ws`, { protocol: testProtocol })
  const b = createClient<P>(`${base}/ws`, { protocol: testProtocol })
  t.teardown(async () => { a.close(); b.close(); await app.close() })
  await Promise.all([a.ready(), b.ready()])

  // Listeners: b has one, a has more event names than a few (unknown names are only never told).
  const seen: string[] = []
  const offB = b.on('server.notice', ({ text }) => { seen.push(`b ${text}`) })
  const on = a.on as (name: string, listener: () => void) => () => void
  const offs = Array.from({ length: FEW }, (_, i) => on.call(a, `other.${i}`, () => { seen.push(`other ${i}`) }))
  a.on('server.notice', ({ text }) => { seen.push(`a ${text}`) })
  a.on('server.notice', ({ text }) => { seen.push(`a again ${text}`) })

  // Topics: b follows one, a more than a few.
  const topics = Array.from({ length: FEW + 2 }, (_, i) => `idle/${i}`)
  for (const topic of topics) t.equal((await a.subscribe(topic)).seq, 0)
  await b.subscribe('idle/0')
  await app.wirebox.publish(`idle/${FEW + 1}`, 'server.notice', { text: 'last' })
  await app.wirebox.publish('idle/0', 'server.notice', { text: 'first' })
  await until(() => seen.length === 5)
  t.same(seen.filter((s) => s.startsWith('a')), ['a last', 'a again last', 'a first', 'a again first'], 'a\'s listeners, in order')
  t.same(seen.filter((s) => s.startsWith('b')), ['b first'], 'b\'s listener, of its topic only')
  t.equal(a.lastSeq(`idle/${FEW + 1}`), 1, 'the seq of each topic')
  t.equal(a.lastSeq('idle/0'), 1)
  t.equal(a.lastSeq('idle/1'), 0)
  t.equal(b.lastSeq(`idle/${FEW + 1}`), undefined, 'b follows only its own topic')

  // Removing: b's only listener, then a's other names.
  offB()
  for (const off of offs) off()
  seen.length = 0
  await a.unsubscribe('idle/1')
  t.equal(a.lastSeq('idle/1'), undefined)
  await app.wirebox.publish('idle/0', 'server.notice', { text: 'again' })
  await until(() => seen.length === 2)
  t.same(seen, ['a again', 'a again again'], 'b\'s removed listener is not told')
})

test('with ws, the shared socket listeners reach each socket\'s own connection: binary and text, then the close code', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  t.teardown(() => app.close())
  const received = new Map<string, Array<unknown>>()
  const fake = (name: string): Connection => {
    received.set(name, [])
    return {
      message: (data: unknown) => { received.get(name)?.push(typeof data === 'string' ? `text of type ${String((JSON.parse(data) as { type: number }).type)}` : Buffer.isBuffer(data) ? 'binary' : 'other') },
      closed: (code: number) => { received.get(name)?.push(code) }
    } as unknown as Connection
  }
  const binary = new WebSocket(`${base}/ws?encoding=messagepack`)
  const text = new WebSocket(`${base}/ws?encoding=json&compression=none`)
  attachWs(fake('binary'), binary as unknown as WebSocketLike)
  attachWs(fake('text'), text as unknown as WebSocketLike)
  t.equal(binary.onmessage, null, 'no handler property: ws makes no wrapper for it')
  t.equal(binary.listenerCount('message'), 1)
  t.equal(binary.listeners('message')[0], text.listeners('message')[0], 'one listener for every socket')
  await until(() => received.get('binary')?.length === 1 && received.get('text')?.length === 1)
  t.same(received.get('binary'), ['binary'], 'a binary message is a Buffer')
  t.same(received.get('text'), ['text of type 254'], 'a text message is a string')
  binary.close(4001)
  text.close(4002)
  await until(() => received.get('binary')?.length === 2 && received.get('text')?.length === 2)
  t.equal(received.get('binary')?.[1], 4001, 'each connection hears its own close code')
  t.equal(received.get('text')?.[1], 4002)
})

test('any other WebSocket is listened to through the handler properties', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  // A WebSocket of the WebSocket API that is not a `ws` instance (as Node 22's or a browser's).
  class Wrapped implements WebSocketLike {
    readonly #ws: WebSocket
    onopen: WebSocketLike['onopen'] = null
    onclose: WebSocketLike['onclose'] = null
    onerror: WebSocketLike['onerror'] = null
    onmessage: WebSocketLike['onmessage'] = null
    constructor (url: string) {
      this.#ws = new WebSocket(url)
      this.#ws.binaryType = 'arraybuffer'
      this.#ws.onopen = (e) => this.onopen?.(e)
      this.#ws.onclose = (e) => this.onclose?.(e)
      this.#ws.onerror = (e) => this.onerror?.(e)
      this.#ws.onmessage = (e) => this.onmessage?.(e)
    }

    get binaryType (): string { return 'arraybuffer' }
    set binaryType (_: string) {}
    get readyState (): number { return this.#ws.readyState }
    get protocol (): string { return this.#ws.protocol }
    send (data: Uint8Array | string): void { this.#ws.send(data) }
    close (code?: number, reason?: string): void { this.#ws.close(code, reason) }
  }
  const client: WireboxClient<P> = createClient<P>(`${base}/ws`, { protocol: testProtocol, WebSocket: Wrapped })
  t.teardown(async () => { client.close(); await app.close() })
  await client.ready()
  t.same(await client.request('math.add', { a: 2, b: 3 }), { sum: 5 })
  const states: string[] = []
  client.onStateChange((s) => states.push(s))
  for (const conn of app.wirebox.connections) conn.close(4003)
  await until(() => states.includes('reconnecting'))
  await client.ready()
  t.same(await client.request('math.add', { a: 1, b: 1 }), { sum: 2 }, 'the close was heard, and the client reconnected')
})

test('in Node, payloads are checked by validatePayload unless the options name a validator, undefined for none', async (t) => {
  const app = await buildApp()
  const base = await listen(app)
  const checked = createClient<P>(`${base}/ws`, { protocol: testProtocol })
  const unchecked = createClient<P>(`${base}/ws`, { protocol: testProtocol, validator: undefined })
  const own: string[] = []
  const custom = createClient<P>(`${base}/ws`, { protocol: testProtocol, validator: (_schema, _value, name) => { own.push(name); return undefined } })
  t.teardown(async () => { checked.close(); unchecked.close(); custom.close(); await app.close() })
  const bad = { a: 1, b: 'x' } as never
  const local = await checked.request('math.add', bad).catch((e: unknown) => e)
  t.ok(isWireboxError(local) && !(local instanceof WireboxRemoteError), 'refused before sending')
  t.equal((local as { code: string }).code, 'WIREBOX_ERR_INVALID_PAYLOAD')
  const remote = await unchecked.request('math.add', bad).catch((e: unknown) => e)
  t.ok(remote instanceof WireboxRemoteError, 'sent unchecked: the server refused it')
  t.same(await custom.request('math.add', { a: 1, b: 2 }), { sum: 3 })
  t.same(own, ['math.add'], 'the options\' validator')
})
