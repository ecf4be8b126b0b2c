import { test } from 'tap'
import { MessageType, nodePlatform } from '../lib/index.js'
import { negotiatedWire, MAX_SHARED_WIRES } from '../lib/client/negotiated-wire.js'
import { ClientListeners } from '../lib/client/listeners.js'
import { handleIncoming } from '../lib/client/incoming.js'
import type { IncomingContext } from '../lib/client/incoming.js'
import { TopicCursors } from '../lib/client/topic-cursors.js'
import { PendingTable } from '../lib/session/pending.js'
import { negotiationPayload } from '../lib/session/handshake.js'
import type { EventMeta } from '../lib/client/types.js'
import type { Negotiation } from '../schemas/negotiation.js'

const limits = { compressionThreshold: 1024, maxMessageSize: 1 << 20, heartbeatIntervalMs: 0, chunkSize: 65536 }
const negotiation = (overrides: Partial<typeof limits> = {}, sessionId = 's'): Negotiation =>
  negotiationPayload({ encoding: 'messagepack', version: 3, compression: 'gzip', fallback: false }, { ...limits, ...overrides }, sessionId)
const meta: EventMeta = { envelope: { event_type: 'e', timestamp: 1 }, flags: 0, topic: undefined, seq: undefined }

test('connections that negotiated the same settings share one encoder; each has its own decoder', async (t) => {
  const a = negotiatedWire(negotiation({}, 'a'), undefined, nodePlatform, undefined)
  const b = negotiatedWire(negotiation({}, 'b'), undefined, nodePlatform, undefined)
  t.equal(a.encoder, b.encoder, 'one encoder')
  t.not(a.decoder, b.decoder, 'a decoder each (it holds partial chunked messages)')
  t.equal(a.decoder.settings, b.decoder.settings, 'their settings are one object')
  const other = negotiatedWire(negotiation({ chunkSize: 4096 }), undefined, nodePlatform, undefined)
  t.not(other.encoder, a.encoder, 'other settings, another encoder')
  t.equal(other.encoder.settings.chunkSize, 4096)
  const codec = {}
  t.not(negotiatedWire(negotiation(), undefined, nodePlatform, codec).encoder, a.encoder, 'other codec options, another encoder')
})

test('the settings a server chooses cannot grow the shared encoders without bound', async (t) => {
  const codec = {} // a cache of its own for this test
  for (let i = 0; i < MAX_SHARED_WIRES + 10; i++) negotiatedWire(negotiation({ compressionThreshold: 2000 + i }), undefined, nodePlatform, codec)
  const first = negotiatedWire(negotiation({ compressionThreshold: 2000 }), undefined, nodePlatform, codec)
  t.equal(first.encoder, negotiatedWire(negotiation({ compressionThreshold: 2000 }), undefined, nodePlatform, codec).encoder, 'those remembered first are still shared')
  const late = negotiatedWire(negotiation({ compressionThreshold: 2000 + MAX_SHARED_WIRES + 5 }), undefined, nodePlatform, codec)
  t.not(late.encoder, negotiatedWire(negotiation({ compressionThreshold: 2000 + MAX_SHARED_WIRES + 5 }), undefined, nodePlatform, codec).encoder, 'past the cap, a wire of its own each time')
  t.equal(late.encoder.settings.threshold, 2000 + MAX_SHARED_WIRES + 5, 'with the settings negotiated')
})

test('event listeners: each once however often added; one added or removed during a delivery is not told of it', async (t) => {
  const listeners = new ClientListeners()
  const calls: string[] = []
  const reporter = { report: (err: Error) => { calls.push(`error ${err.message}`) } }
  let offLate: (() => void) | undefined
  const late = (): void => { calls.push('late') }
  const first = (): void => {
    calls.push('first')
    offLate ??= listeners.onEvent('e', late)
    offSecond()
  }
  const second = (): void => { calls.push('second') }
  listeners.onEvent('e', first)
  listeners.onEvent('e', first)
  const offSecond = listeners.onEvent('e', second)
  t.equal(listeners.event('e', 1, meta, reporter), true)
  t.same(calls, ['first', 'second'], 'the delivery told whom it started with')
  calls.length = 0
  listeners.event('e', 2, meta, reporter)
  t.same(calls, ['first', 'late'])
  offLate?.()
  calls.length = 0
  const failing = listeners.onEvent('e', () => { throw new Error('boom') })
  t.equal(listeners.event('e', 3, meta, reporter), false)
  t.same(calls, ['first', 'error boom'])
  failing()
  calls.length = 0
  t.equal(await listeners.event('e', 4, meta, reporter), true, 'all succeeded')
  listeners.onEvent('e', async () => { throw new Error('later') })
  t.equal(await listeners.event('e', 5, meta, reporter), false, 'a rejection fails the delivery')
  t.same(calls, ['first', 'first', 'error later'])
})

test('state, error and gap listeners stop when removed', async (t) => {
  const listeners = new ClientListeners()
  const seen: unknown[] = []
  const offState = listeners.onState((s) => seen.push(s))
  const offError = listeners.onError((e) => seen.push(e.message))
  const offGap = listeners.onGap((g) => seen.push(g.topic))
  listeners.state('open')
  listeners.error(new Error('x'))
  listeners.gap({ topic: 't', from: 1, to: 2, next: 3, reset: false })
  offState()
  offError()
  offGap()
  listeners.state('closed')
  listeners.error(new Error('y'))
  listeners.gap({ topic: 'u', from: 1, to: 2, next: 3, reset: false })
  t.same(seen, ['open', 'x', 't'])
})

test('incoming payloads are checked only when the client validates them', async (t) => {
  for (const validates of [false, true]) {
    const requests = new PendingTable<unknown>()
    const asked: string[] = []
    const reported: Error[] = []
    const context: IncomingContext = {
      listeners: new ClientListeners(),
      topics: new TopicCursors(),
      requests,
      acks: new PendingTable<void>(),
      validates,
      problem: (kind, name) => { asked.push(`${kind} ${String(name)}`); return undefined },
      report: (error) => { reported.push(error) },
      answer: () => {}
    }
    const answered = requests.wait(7, 'math.add', 1000, () => new Error('timeout'))
    handleIncoming(context, { version: 3, type: MessageType.RESPONSE, flags: 0, timestamp: undefined, envelope: { event_type: 'math.add', timestamp: 1, id: 7, payload: { sum: 3 } }, bodySize: 1 }, { event_type: 'math.add', timestamp: 1, id: 7, payload: { sum: 3 } })
    t.same(await answered, { sum: 3 })
    handleIncoming(context, { version: 3, type: MessageType.EVENT, flags: 0, timestamp: undefined, envelope: { event_type: 'chat.echo', timestamp: 1 }, bodySize: 1 }, { event_type: 'chat.echo', timestamp: 1 })
    t.same(asked, validates ? ['response math.add', 'event chat.echo'] : [], `validates: ${String(validates)}`)
    t.same(reported, [])
  }
})
