import { test } from 'tap'
import type { Test } from 'tap'
import { createRequire } from 'node:module'
import { WebSocket } from 'ws'
import { buildApp } from './fixture.js'
import { TestClient, MessageType, Flag, listen, shutdown } from './test-client.js'
import { wsFramesOf, frameSenderOf, WS_HEADER_ROOM } from '../../lib/server/ws-frames.js'
import type { EncodedMessage } from '../../lib/core/wire.js'

/** ws's sender (its typings do not list it). */
interface WsSender {
  frame: (data: Buffer, options: Record<string, unknown>) => Buffer[]
  prototype: { sendFrame: (list: Buffer[], cb?: () => void) => void }
}
const Sender = (createRequire(import.meta.url)('ws') as { Sender: WsSender }).Sender

/** What ws itself sends for a payload: its header and the payload. */
function wsOwnFrame (payload: Buffer, opcode: number): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin: true, opcode, mask: false, readOnly: false, rsv1: false }))
}

test('frames made once per message are byte for byte what ws sends, with and without room', async (t) => {
  for (const length of [1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(length, 0x5a)
    payload[0] = 1
    payload[length - 1] = 2
    // Without room: the frame is a copy behind a new header.
    const plain: EncodedMessage = { frames: [new Uint8Array(payload)], bodySize: length, wireSize: length, room: 0 }
    t.same(wsFramesOf(plain)[0], wsOwnFrame(payload, 2), `binary ${length} B`)
    // With room: the header is written in front of the frame, in its own buffer (no copy).
    const buffer = new Uint8Array(WS_HEADER_ROOM + length)
    buffer.set(payload, WS_HEADER_ROOM)
    const roomy: EncodedMessage = { frames: [buffer.subarray(WS_HEADER_ROOM)], bodySize: length, wireSize: length, room: WS_HEADER_ROOM }
    const made = wsFramesOf(roomy)[0]
    t.same(made, wsOwnFrame(payload, 2), `binary ${length} B in the room`)
    t.equal(made.buffer, buffer.buffer, 'no copy')
    t.equal(wsFramesOf(roomy), roomy.transport, 'made once, kept on the message')
    const text = 'é'.repeat(Math.ceil(length / 2)).slice(0, Math.ceil(length / 2))
    const texts: EncodedMessage = { frames: [text], bodySize: 0, wireSize: 0, room: 0 }
    t.same(wsFramesOf(texts)[0], wsOwnFrame(Buffer.from(text), 1), `text of ${Buffer.byteLength(text)} B`)
  }
  // A chunked message: its frames one after the other in one buffer (one write per socket).
  const chunks = [Buffer.alloc(300, 1), Buffer.alloc(70000, 2), Buffer.alloc(5, 3)]
  const chunked: EncodedMessage = { frames: chunks.map((c) => new Uint8Array(c)), bodySize: 0, wireSize: 0, room: WS_HEADER_ROOM }
  const all = wsFramesOf(chunked)
  t.equal(all.length, 1, 'one buffer')
  t.same(all[0], Buffer.concat(chunks.map((c) => wsOwnFrame(c, 2))), 'every chunk framed, in order')
  t.throws(() => wsFramesOf({ frames: [new Uint8Array(1), 'text'], bodySize: 0, wireSize: 0, room: 0 }), TypeError, 'no text in a chunked message')
})

/** Counts, on server sockets only, what went through ws.send and what through prebuilt frames. */
function spyOnSends (t: Test): { send: number, sendFrame: number } {
  const counts = { send: 0, sendFrame: 0 }
  const send = WebSocket.prototype.send
  const proto = Sender.prototype
  const sendFrame = proto.sendFrame
  WebSocket.prototype.send = function (this: WebSocket & { _isServer: boolean }, ...args: Parameters<WebSocket['send']>) {
    if (this._isServer) counts.send++
    return send.apply(this, args)
  } as WebSocket['send']
  proto.sendFrame = function (this: unknown, list: Buffer[], cb?: () => void) {
    counts.sendFrame++
    return sendFrame.call(this, list, cb)
  }
  t.teardown(() => {
    WebSocket.prototype.send = send
    proto.sendFrame = sendFrame
  })
  return counts
}

/** A request, a compressed chunked response and a topic message, each arriving whole, in both encodings; `check` sees each open socket. */
async function exercise (t: Test, app: Awaited<ReturnType<typeof buildApp>>, check: (client: TestClient, server: WebSocket[]) => void): Promise<void> {
  const base = await listen(app)
  for (const encoding of ['messagepack', 'json']) {
    const client = await TestClient.connect(`${base}/ws?encoding=${encoding}&version=3`)
    await client.ready()
    t.same((await client.request('math.add', { a: 2, b: 3 })).envelope?.payload, { sum: 5 }, encoding)
    const large = await client.request('data.range', { count: 20000 })
    t.equal((large.envelope?.payload as { values: number[] }).values[19999], 9999.5, `${encoding}: a compressed, chunked response arrives whole`)
    await client.subscribe('room/frames')
    await app.wirebox.publish('room/frames', 'chat.echo', { room: 'r', text: encoding })
    const event = await client.next((m) => m.envelope?.topic === 'room/frames')
    t.equal(event.flags & Flag.BROADCAST, Flag.BROADCAST)
    t.same(event.envelope?.payload, { room: 'r', text: encoding })
    t.notOk(client.received.some((m) => m.type === MessageType.ERROR), 'no error')
    check(client, openServerSockets(app))
    client.close()
    await client.closed
  }
}

test('the server writes its messages as prebuilt frames through ws\'s sender', async (t) => {
  const app = await buildApp()
  t.teardown(() => shutdown(app))
  const counts = spyOnSends(t)
  await exercise(t, app, (_client, server) => {
    // ws's sender still is what this was written against: a ws upgrade that changes it shows here.
    t.same(server.map((s) => frameSenderOf(s) !== undefined), [true], 'ws\'s sender takes prebuilt frames')
  })
  t.equal(counts.send, 0, 'nothing went through ws.send')
  t.ok(counts.sendFrame >= 8, `prebuilt frames written (${counts.sendFrame})`)
})

test('with permessage-deflate negotiated, messages go through ws.send', async (t) => {
  const app = await buildApp({ websocket: { perMessageDeflate: true } })
  t.teardown(() => shutdown(app))
  const counts = spyOnSends(t)
  await exercise(t, app, (client, server) => {
    t.equal(client.ws.extensions, 'permessage-deflate', 'negotiated')
    t.same(server.map((s) => frameSenderOf(s)), [undefined], 'no prebuilt frames with an extension')
  })
  t.ok(counts.send >= 8, `ws.send used (${counts.send})`)
})

function openServerSockets (app: Awaited<ReturnType<typeof buildApp>>): WebSocket[] {
  return [...app.wirebox.connections].map((c) => c.socket).filter((s) => s.readyState === WebSocket.OPEN)
}
