/**
 * Topics: which local connections listen to which topic, and the fan-out. A publish goes through
 * the broker (which assigns `seq` and keeps history); every instance that listens gets it once
 * and encodes it once per variant (route x encoding x version x compression) present among its
 * live subscribers, handing the same frames to each.
 *
 * Each subscription is a cursor: the last `seq` handed to its connection. A cursor is live (it
 * takes messages as they are published) or catching up (it reads them from history). A replay
 * (SUBSCRIBE with `since`) is a catch-up; so is a subscriber whose send buffer is above its
 * high-water mark: instead of buffering without bound, it stops taking live messages and, once
 * its buffer drains, reads what it missed from history. What history no longer has is announced
 * with a lost-messages notice (PROTOCOL.md "Lost messages"): no gap is ever silent.
 */
import { Flag, MessageType } from '../core/constants.js'
import type { EncodedMessage, MessageEncoder } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { validatePayload } from '../protocol.js'
import { errors } from '../errors.js'
import type { Broker, BrokerListener, TopicMessage } from '../brokers/broker.js'
import { topicProblem } from './topic-name.js'
import { EMPTY_RESULT } from './types.js'
import type { PublishOptions, PublishResult, Subscribed, TopicRoute, TopicSubscriber } from './types.js'

export type { PublishOptions, PublishResult, Subscribed, TopicRoute, TopicSubscriber } from './types.js'

interface Cursor {
  readonly topic: string
  readonly subscriber: TopicSubscriber
  /** The last seq handed to the connection (or announced as lost). */
  delivered: number
  /** Takes messages as they are published; false while set up or catching up. */
  live: boolean
  catchingUp: boolean
}

// How long a publish waits for this instance's fan-out of its message.
const FAN_OUT_WAIT_MS = 30_000

/** Limits of a topic registry. */
interface TopicLimits {
  /** Topics with subscribers on this instance (default 10000). */
  maxTopics: number
}

/** The topic registry of one plugin instance. */
export class Topics implements BrokerListener {
  readonly broker: Broker
  readonly #cursors = new Map<string, Map<TopicSubscriber, Cursor>>()
  // The highest seq this instance has seen per subscribed topic.
  readonly #latest = new Map<string, number>()
  readonly #routes = new Set<TopicRoute>()
  readonly #nextAckId: () => number
  readonly #limits: TopicLimits
  readonly #report: (err: unknown) => void
  readonly #listening = new Map<string, Promise<void>>()
  // Publishes in progress, and the local fan-outs they are waiting for (key: topic + seq).
  #publishing = 0
  readonly #fanOuts = new Map<string, Promise<PublishResult>>()
  readonly #awaited = new Map<string, (fanned: Promise<PublishResult>) => void>()

  /**
   * @param nextAckId source of message ids for ACK_REQUIRED messages (shared with direct sends)
   * @param report told of failures no caller can be told of (a catch-up that could not read history)
   */
  constructor (broker: Broker, nextAckId: () => number, limits: TopicLimits, report: (err: unknown) => void) {
    this.broker = broker
    this.#nextAckId = nextAckId
    this.#limits = limits
    this.#report = report
    broker.attach(this)
  }

  /** Makes a route's protocol known, for validation of publishes and of what brokers deliver. */
  addRoute (route: TopicRoute): void {
    this.#routes.add(route)
  }

  /** Subscribers of a topic on this instance. */
  count (topic: string): number {
    return this.#cursors.get(topic)?.size ?? 0
  }

  /** Topics with subscribers on this instance. */
  get size (): number {
    return this.#cursors.size
  }

  /**
   * Subscribes (again, if already subscribed: the cursor starts over); with `since`, reads what
   * history has after it. The subscriber takes nothing until `start()`, which the connection
   * calls once the SUBSCRIPTION_ACK is written; then it catches up and goes live.
   */
  async subscribe (topic: string, subscriber: TopicSubscriber, since?: number): Promise<Subscribed> {
    const bad = topicProblem(topic)
    if (bad !== undefined) throw bad
    let cursors = this.#cursors.get(topic)
    if (cursors === undefined) {
      if (this.#cursors.size >= this.#limits.maxTopics) throw new errors.WIREBOX_ERR_TOO_MANY_TOPICS(this.#limits.maxTopics)
      cursors = new Map()
      this.#cursors.set(topic, cursors)
      this.#listening.set(topic, this.broker.listen(topic))
    }
    const cursor: Cursor = { topic, subscriber, delivered: 0, live: false, catchingUp: false }
    cursors.set(subscriber, cursor)
    // Every subscriber of a new topic waits until the broker listens, before reading the seq.
    try {
      await this.#listening.get(topic)
      let subscribed: Omit<Subscribed, 'start'>
      let replay: TopicMessage[] | undefined
      if (since === undefined) {
        const seq = await this.broker.currentSeq(topic)
        cursor.delivered = seq
        subscribed = { seq }
      } else {
        let slice = await this.broker.history(topic, since)
        // A `since` beyond the topic's seq was seen in another history (a restarted server, an
        // expired topic): the client gets this history from its start.
        if (since > slice.currentSeq) slice = { ...(await this.broker.history(topic, 0)), complete: false }
        replay = slice.messages
        cursor.delivered = slice.complete ? since : slice.firstSeq - 1
        subscribed = slice.complete
          ? { seq: slice.currentSeq, recovered: true }
          : { seq: slice.currentSeq, recovered: false, first_seq: slice.firstSeq }
      }
      this.#raiseLatest(topic, subscribed.seq)
      return { ...subscribed, start: () => this.#catchUp(cursor, replay) }
    } catch (err) {
      this.unsubscribe(topic, subscriber)
      throw err
    }
  }

  /** The last seq handed to a subscriber of a topic, or undefined when it is not subscribed. */
  position (topic: string, subscriber: TopicSubscriber): number | undefined {
    return this.#cursors.get(topic)?.get(subscriber)?.delivered
  }

  /** Removes a subscriber; returns whether it was subscribed. */
  unsubscribe (topic: string, subscriber: TopicSubscriber): boolean {
    const cursors = this.#cursors.get(topic)
    if (cursors === undefined || !cursors.delete(subscriber)) return false
    if (cursors.size === 0) {
      this.#cursors.delete(topic)
      this.#latest.delete(topic)
      this.#listening.delete(topic)
      this.broker.unlisten(topic).catch(this.#report)
    }
    return true
  }

  /** Forgets a subscriber everywhere (its connection closed). */
  removeEverywhere (subscriber: TopicSubscriber, topics: Iterable<string>): void {
    for (const topic of topics) this.unsubscribe(topic, subscriber)
  }

  /**
   * Publishes an EVENT with the BROADCAST flag and `topic` and `seq` in its envelope: validated
   * once against every route that knows the event, handed to the broker once, encoded once per
   * variant on each instance. Resolves when this instance has written it to its subscribers.
   */
  async publish (topic: string, eventType: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const bad = topicProblem(topic)
    if (bad !== undefined) throw bad
    const invalid = this.#problem(eventType, payload, true)
    if (invalid !== undefined) throw invalid
    const message = { topic, eventType, payload, timestamp: Date.now(), priority: options.priority === true, ack: options.ack === true }
    this.#publishing++
    let seq: number
    try {
      seq = await this.broker.publish(message)
    } finally {
      this.#publishing--
    }
    if (this.count(topic) === 0) return { ...EMPTY_RESULT, seq }
    // This instance's fan-out of that seq: done already (the memory broker delivers at once) or
    // still to come (a remote broker delivers it back).
    const key = `${topic}\u0000${seq}`
    const done = this.#fanOuts.get(key)
    if (done !== undefined) {
      this.#fanOuts.delete(key)
      return await done
    }
    return await new Promise<PublishResult>((resolve) => {
      const timer = setTimeout(() => {
        this.#awaited.delete(key)
        resolve({ ...EMPTY_RESULT, seq, dropped: this.count(topic) })
      }, FAN_OUT_WAIT_MS)
      timer.unref?.()
      this.#awaited.set(key, (fanned) => {
        clearTimeout(timer)
        fanned.then(resolve, () => resolve({ ...EMPTY_RESULT, seq }))
      })
    })
  }

  /** From the broker: one message of a topic this instance listens to. */
  message (message: TopicMessage): void {
    const cursors = this.#cursors.get(message.topic)
    if (cursors === undefined) return
    this.#raiseLatest(message.topic, message.seq)
    const fanned = this.#fanOut(message, cursors)
    const key = `${message.topic}\u0000${message.seq}`
    const awaited = this.#awaited.get(key)
    if (awaited !== undefined) {
      this.#awaited.delete(key)
      awaited(fanned)
    } else if (this.#publishing > 0) {
      // A publish of this instance may not know its seq yet: keep the result for it a while.
      this.#fanOuts.set(key, fanned)
      setTimeout(() => this.#fanOuts.delete(key), FAN_OUT_WAIT_MS).unref?.()
    }
  }

  /** From the broker: messages `from` to `to` were lost; every live subscriber is told. */
  gap (topic: string, _from: number, to: number): void {
    this.#raiseLatest(topic, to)
    for (const cursor of this.#cursors.get(topic)?.values() ?? []) {
      if (!cursor.live || cursor.delivered >= to) continue
      cursor.subscriber.lost(topic, to, to + 1)
      cursor.delivered = to
    }
  }

  /** The first problem of a payload for an event (unknown event, invalid payload), or undefined. */
  #problem (eventType: string, payload: unknown, validateKnown: boolean): Error | undefined {
    let known = false
    for (const route of this.#routes) {
      const schema = route.events.get(eventType)
      if (schema === undefined) continue
      known = true
      if (validateKnown && !route.validateOutgoing) continue
      const invalid = validatePayload(schema, payload, eventType)
      if (invalid !== undefined) return invalid
    }
    if (!known && this.#routes.size > 0) return new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', eventType)
    return undefined
  }

  /** Whether a message from the broker may reach clients (a remote broker's input is untrusted). */
  #acceptable (message: TopicMessage): boolean {
    if (this.broker.trusted === true) return true
    const problem = this.#problem(message.eventType, message.payload, false)
    if (problem === undefined) return true
    this.#report(new Error(`wirebox: ${this.broker.name} broker delivered an invalid message on ${message.topic} (seq ${message.seq}): ${problem.message}`))
    return false
  }

  #raiseLatest (topic: string, seq: number): void {
    if (this.#cursors.has(topic) && seq > (this.#latest.get(topic) ?? 0)) this.#latest.set(topic, seq)
  }

  #current (cursor: Cursor): boolean {
    return this.#cursors.get(cursor.topic)?.get(cursor.subscriber) === cursor
  }

  /**
   * Encodes once per variant among the live cursors and writes to each: synchronously, socket
   * after socket, unless a variant compresses in the thread pool or a delivery awaits an ACK.
   */
  #fanOut (message: TopicMessage, cursors: Map<TopicSubscriber, Cursor>): Promise<PublishResult> {
    if (cursors.size === 0) return Promise.resolve({ ...EMPTY_RESULT, seq: message.seq })
    const acceptable = this.#acceptable(message)
    const ackId = message.ack ? this.#nextAckId() : undefined
    const variants = new Map<MessageEncoder, Promise<EncodedMessage> | EncodedMessage>()
    let pending: Array<Promise<boolean>> | undefined
    let lastEncoder: MessageEncoder | undefined
    let lastEncoded: Promise<EncodedMessage> | EncodedMessage | undefined
    let delivered = 0
    let attempted = 0
    let behind = 0
    for (const cursor of cursors.values()) {
      if (!cursor.live || message.seq <= cursor.delivered) {
        if (cursor.delivered < message.seq) behind++
        continue
      }
      if (!acceptable) continue
      const { subscriber } = cursor
      // A hole before this message (a remote broker skipped one): history fills it or says so.
      const ack = ackId !== undefined && subscriber.encoder.settings.version === 3
      // PRIORITY and acknowledged messages are written even above the high-water mark.
      if (message.seq > cursor.delivered + 1 || (subscriber.congested && !message.priority && !ack)) {
        behind++
        subscriber.deferred()
        this.#fallBehind(cursor)
        continue
      }
      cursor.delivered = message.seq
      // Most subscribers share the previous one's encoder: no map lookup for them.
      let encoded = subscriber.encoder === lastEncoder ? lastEncoded : variants.get(subscriber.encoder)
      if (encoded === undefined) {
        try {
          encoded = subscriber.encoder.encodeNow(topicMessage(message, ack ? ackId : undefined))
        } catch (err) {
          encoded = Promise.reject(err)
        }
        if (encoded instanceof Promise) encoded.catch(() => {}) // each delivery reports it
        variants.set(subscriber.encoder, encoded)
      }
      lastEncoder = subscriber.encoder
      lastEncoded = encoded
      attempted++
      let written: boolean | Promise<boolean>
      try {
        written = subscriber.deliver(encoded, MessageType.EVENT, false, ack ? ackId : undefined, message.eventType)
      } catch {
        written = false
      }
      if (written instanceof Promise) (pending ??= []).push(written)
      else if (written) delivered++
    }
    const result = (): PublishResult => {
      const out: PublishResult = { seq: message.seq, delivered, dropped: attempted - delivered + behind, encodings: variants.size }
      if (ackId !== undefined) out.acked = delivered
      return out
    }
    if (pending === undefined) return Promise.resolve(result())
    return Promise.allSettled(pending).then((settled) => {
      for (const r of settled) if (r.status === 'fulfilled' && r.value) delivered++
      return result()
    })
  }

  /** The cursor stops taking live messages and catches up from history once its connection drains. */
  #fallBehind (cursor: Cursor): void {
    cursor.live = false
    cursor.subscriber.whenDrained(() => this.#catchUp(cursor))
  }

  /** Starts catching up (`first`: messages already read from history); goes live when done. */
  #catchUp (cursor: Cursor, first?: TopicMessage[]): void {
    if (cursor.catchingUp || !this.#current(cursor)) return
    cursor.catchingUp = true
    cursor.live = false
    this.#runCatchUp(cursor, first)
      .catch((err: unknown) => {
        // History could not be read: announce what is missing up to now, then go on live.
        this.#report(err)
        const latest = this.#latest.get(cursor.topic) ?? cursor.delivered
        if (this.#current(cursor) && latest > cursor.delivered) {
          cursor.subscriber.lost(cursor.topic, latest, latest + 1)
          cursor.delivered = latest
          cursor.live = true
        }
      })
      .finally(() => { cursor.catchingUp = false })
  }

  async #runCatchUp (cursor: Cursor, first?: TopicMessage[]): Promise<void> {
    const { topic, subscriber } = cursor
    let messages = first
    while (this.#current(cursor)) {
      if (messages === undefined) {
        if ((this.#latest.get(topic) ?? 0) <= cursor.delivered) {
          cursor.live = true
          return
        }
        const slice = await this.broker.history(topic, cursor.delivered)
        if (!this.#current(cursor)) return
        this.#raiseLatest(topic, slice.currentSeq)
        messages = slice.messages
        if (!slice.complete && slice.currentSeq > cursor.delivered && slice.firstSeq > cursor.delivered + 1) {
          subscriber.lost(topic, slice.currentSeq, slice.firstSeq)
          cursor.delivered = slice.firstSeq - 1
        }
      }
      for (const message of messages) {
        if (message.seq <= cursor.delivered || !this.#acceptable(message)) continue
        if (subscriber.congested) {
          this.#fallBehind(cursor)
          return
        }
        if (message.seq > cursor.delivered + 1) subscriber.lost(topic, this.#latest.get(topic) ?? message.seq, message.seq)
        cursor.delivered = message.seq
        // One at a time: the send buffer must show each message before the next is judged.
        const written = await subscriber.deliver(subscriber.encoder.encodeMessage(topicMessage(message)), MessageType.EVENT, false, undefined, message.eventType)
        if (!written || !this.#current(cursor)) return
      }
      messages = undefined
    }
  }
}

/** The EVENT of a topic message (BROADCAST, with `topic` and `seq`). */
function topicMessage (message: TopicMessage, ackId?: number): { type: number, flags: number, envelope: Envelope } {
  const envelope: Envelope = { event_type: message.eventType, timestamp: message.timestamp, payload: message.payload, topic: message.topic, seq: message.seq, ...(ackId === undefined ? {} : { id: ackId }) }
  const flags = Flag.BROADCAST | (message.priority ? Flag.PRIORITY : 0) | (ackId === undefined ? 0 : Flag.ACK_REQUIRED)
  return { type: MessageType.EVENT, flags, envelope }
}
