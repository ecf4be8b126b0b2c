/**
 * The session's queues keep order while taking the fast path: a message ready while nothing waits
 * is written (or handled) at once, and one that is pending (compressing, inflating, waiting for a
 * gate or a handler) holds back everything after it.
 */
import { test } from 'tap'
import { Outbox } from '../lib/session/outbox.js'
import { Inbox } from '../lib/session/inbox.js'
import { Session } from '../lib/session/session.js'
import { MessageType } from '../lib/index.js'
import type { DecodedMessage, EncodedMessage } from '../lib/index.js'
import { until } from './helpers.js'

const message = (name: string): EncodedMessage => ({ frames: [name], bodySize: name.length, wireSize: name.length, room: 0 })
const later = <T>(value: T, ms = 5): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms))

test('Outbox: ready messages are written at once; a pending one holds back the rest, in order', async (t) => {
  const written: string[] = []
  const outbox = new Outbox({ write: (m) => { written.push(m.frames[0] as string); return true } })
  t.equal(outbox.push(message('a'), 1, false), true, 'written at once, no promise')
  t.same(written, ['a'])
  const b = outbox.push(later(message('b')), 1, false)
  const c = outbox.push(message('c'), 1, false)
  t.ok(b instanceof Promise && c instanceof Promise, 'behind a pending message, a ready one waits')
  let closed = false
  outbox.after(() => { closed = true })
  t.same(written, ['a'])
  t.equal(closed, false)
  t.same(await Promise.all([b, c]), [true, true])
  t.same(written, ['a', 'b', 'c'])
  t.equal(closed, true, 'after() ran once what was queued before it was written')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(outbox.push(message('d'), 1, false), true, 'the fast path again once the queue is empty')
  let now = false
  outbox.after(() => { now = true })
  t.equal(now, true, 'after() runs at once when nothing waits')
  const failed = outbox.push(Promise.reject(new Error('could not encode')), 1, false)
  const e = outbox.push(message('e'), 1, false)
  await t.rejects(failed as Promise<boolean>, { message: 'could not encode' })
  t.equal(await e, true, 'a message that could not be encoded does not stop the queue')
  t.same(written, ['a', 'b', 'c', 'd', 'e'])
})

test('Outbox and Session: the writer may be an object, whose write method is called on it', async (t) => {
  class Writer {
    readonly written: string[] = []
    write (m: EncodedMessage): boolean {
      this.written.push(m.frames[0] as string)
      return true
    }
  }
  const writer = new Writer()
  const outbox = new Outbox(writer)
  t.equal(outbox.push(message('a'), 1, false), true)
  t.equal(await outbox.push(later(message('b')), 1, false), true)
  t.same(writer.written, ['a', 'b'], 'written in order, with the writer as this')
  const session = new Session(writer)
  t.equal(session.push(message('c'), 1, false), true)
  t.same(writer.written, ['a', 'b', 'c'])
  // No queue until a message has to wait; then the order holds through it, `after` included.
  let ran = false
  session.after(() => { ran = true })
  t.equal(ran, true, 'nothing queued: at once')
  const d = session.push(later(message('d')), 1, false)
  t.equal(session.push(message('e'), 1, false) instanceof Promise, true, 'behind a message still encoding: queued')
  session.after(() => { ran = writer.written.includes('e') })
  ran = false
  t.equal(await d, true)
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(writer.written, ['a', 'b', 'c', 'd', 'e'], 'in the order pushed')
  t.equal(ran, true, 'after ran once what came before was written')
  t.equal(session.push(message('f'), 1, false), true, 'the queue emptied: written at once again')
  const acks = session.acks
  t.equal(session.acks, acks, 'the ACK table, made when first used, is the same one after')
  const acked = acks.wait(7, 'ack', 60_000, () => new Error('timeout'))
  t.equal(session.handle({ version: 3, type: MessageType.ACK, flags: 0, timestamp: undefined, envelope: { event_type: 'ack', timestamp: 0, id: 7 }, bodySize: 0 }, undefined as never, () => {}), true)
  await acked
  t.equal(session.acks.size, 0, 'an ACK settles what awaits it')
})

test('Inbox: messages are decoded and handled at once; a pending decode, gate or handler holds back the rest, in order', async (t) => {
  const handled: string[] = []
  const failures: unknown[] = []
  const decoded = (name: string): DecodedMessage => ({ version: 3, type: 1, flags: 0, timestamp: undefined, envelope: { event_type: name, timestamp: 0 }, bodySize: 0 })
  let gate: Promise<void> | undefined
  const inbox = new Inbox({
    open: () => true,
    gate: () => gate,
    decode: (input) => {
      const name = input as string
      if (name === 'bad') throw new Error('bad frame')
      if (name.startsWith('slow')) return later(decoded(name))
      return decoded(name)
    },
    handle: (m) => {
      handled.push(m.envelope?.event_type as string)
      if (m.envelope?.event_type === 'async-handler') return later(undefined, 10)
    },
    fail: (err) => failures.push(err)
  })
  inbox.push('a')
  t.same(handled, ['a'], 'handled synchronously')
  inbox.push('slow-b')
  inbox.push('c')
  inbox.push('bad')
  inbox.push('d')
  t.same(handled, ['a'], 'c and d wait behind the pending decode of b')
  await until(() => handled.length >= 4)
  t.same(handled, ['a', 'slow-b', 'c', 'd'])
  t.equal(failures.length, 1, 'the bad frame was reported and skipped')
  inbox.push('async-handler')
  inbox.push('e')
  t.same(handled, ['a', 'slow-b', 'c', 'd', 'async-handler'], 'e waits for the handler\'s promise')
  await until(() => handled.length >= 6)
  t.same(handled.at(-1), 'e')
  let open: () => void = () => {}
  gate = new Promise<void>((resolve) => { open = resolve })
  inbox.push('f')
  gate = undefined
  inbox.push('g')
  t.same(handled.at(-1), 'e', 'f waits at the gate, g behind it')
  open()
  await until(() => handled.length >= 8)
  t.same(handled.slice(-2), ['f', 'g'])
})

test('Inbox: a failure reporter that throws does not stop the inbox; later messages are still handled', async (t) => {
  const handled: string[] = []
  const decoded = (name: string): DecodedMessage => ({ version: 3, type: 1, flags: 0, timestamp: undefined, envelope: { event_type: name, timestamp: 0 }, bodySize: 0 })
  const inbox = new Inbox({
    open: () => true,
    decode: (input) => {
      const name = input as string
      if (name === 'bad') throw new Error('bad frame')
      return name.startsWith('slow') ? later(decoded(name)) : decoded(name)
    },
    handle: (m) => { handled.push(m.envelope?.event_type as string) },
    fail: () => { throw new Error('the reporter throws') }
  })
  inbox.push('slow-a')
  inbox.push('bad')
  inbox.push('b')
  inbox.push('bad')
  inbox.push('slow-c')
  await until(() => handled.length >= 3)
  t.same(handled, ['slow-a', 'b', 'slow-c'])
  inbox.push('d')
  t.same(handled.at(-1), 'd', 'and handled at once again')
})

test('Inbox: a gate that throws reports that message and goes on with the next', (t) => {
  const handled: string[] = []
  const failures: unknown[] = []
  let throwOnce = true
  const inbox = new Inbox({
    open: () => true,
    gate: () => {
      if (throwOnce) {
        throwOnce = false
        throw new Error('gate')
      }
      return undefined
    },
    decode: (input) => ({ version: 3, type: 1, flags: 0, timestamp: undefined, envelope: { event_type: input as string, timestamp: 0 }, bodySize: 0 }),
    handle: (m) => { handled.push(m.envelope?.event_type as string) },
    fail: (err) => failures.push(err)
  })
  inbox.push('a')
  inbox.push('b')
  t.same(handled, ['b'])
  t.equal(failures.length, 1)
  t.end()
})

test('Inbox: what waits behind a pending message is bounded: reading pauses over the limit, resumes at half', async (t) => {
  const decoded = (name: string): DecodedMessage => ({ version: 3, type: 1, flags: 0, timestamp: undefined, envelope: { event_type: name, timestamp: 0 }, bodySize: 0 })
  const calls: string[] = []
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  const handled: string[] = []
  const inbox = new Inbox({
    open: () => true,
    decode: (input) => decoded(input as string),
    handle: (m) => {
      handled.push(m.envelope?.event_type as string)
      return m.envelope?.event_type === 'slow' ? held : undefined
    },
    fail: () => {},
    backlogLimit: 10,
    pause () { calls.push('pause') },
    resume () { calls.push('resume') }
  })
  inbox.push('slow')
  for (const name of ['aaaa', 'bbbb']) inbox.push(name)
  t.same(calls, [], '8 bytes waiting: under the limit')
  inbox.push('cccc')
  t.same(calls, ['pause'], '12 bytes waiting: reading pauses')
  inbox.push('dddd')
  t.same(calls, ['pause', 'pause'], 'paused again for what arrived meanwhile (something else may have resumed reading)')
  release()
  await until(() => handled.length === 5)
  t.same(handled, ['slow', 'aaaa', 'bbbb', 'cccc', 'dddd'], 'nothing lost, in order')
  t.same(calls, ['pause', 'pause', 'resume'], 'resumed once half the limit was left')
})
