/**
 * Topics: which local connections listen to which topic, and the fan-out. A publish goes through
 * the broker (which assigns `seq` and keeps history); every instance that listens gets it once
 * and encodes it once per variant (route x encoding x version x compression) present among its
 * subscribers, handing the same frames to every socket of that variant. SUBSCRIBE with `since`
 * replays from history, then continues live with no gap and no duplicate.
 */
import type { TSchema } from '@sinclair/typebox'
import { Flag, MessageType } from './core/constants.js'
import type { EncodedMessage, MessageEncoder } from './core/wire.js'
import type { Envelope } from '../schemas/envelope.js'
import { validatePayload } from './protocol.js'
import { errors } from './errors.js'
import type { Broker, BrokerListener, TopicMessage } from './brokers/broker.js'

/** What topics need of a connection. */
export interface TopicSubscriber {
  /** The shared encoder of the connection's variant: its identity is the variant. */
  readonly encoder: MessageEncoder
  /** The route, for its protocol and options. */
  readonly route: TopicRoute
  /** Queues an encoded message; resolves to false when dropped (back-pressure) or closed. */
  deliver (encoded: Promise<EncodedMessage>, type: number, droppable: boolean, ackId?: number): Promise<boolean>
  /** Tells the client that messages of a topic were lost (history could not fill a gap). */
  lost (topic: string, currentSeq: number, firstSeq: number): void
}

/** What topics need of a route. */
export interface TopicRoute {
  readonly events: ReadonlyMap<string, TSchema>
  readonly validateOutgoing: boolean
}

/** Options of a publish. */
export interface PublishOptions {
  /** PRIORITY: never dropped under back-pressure (default false). */
  priority?: boolean
  /** ACK_REQUIRED (version 3 subscribers): on this instance, resolve after each recipient's ACK or its timeout (default false). */
  ack?: boolean
}

/** What a publish did (the fan-out counts are this instance's). */
export interface PublishResult {
  /** The message's sequence number in its topic. */
  seq: number
  /** Local sockets the message was written to (with `ack`: that acknowledged it). */
  delivered: number
  /** Local sockets it was dropped for (back-pressure, closed meanwhile, or no ACK). */
  dropped: number
  /** Distinct encodings done (one per variant). */
  encodings: number
  /** With `ack`: local recipients that acknowledged. */
  acked?: number
}

/** What a subscription found: the SUBSCRIPTION_ACK fields and the messages to replay. */
export interface Subscribed {
  seq: number
  recovered?: boolean
  first_seq?: number
  replay: TopicMessage[]
  /** Call after the ACK and the replay are queued: delivers what arrived meanwhile, then goes live. */
  release: () => void
}

const EMPTY: PublishResult = { seq: 0, delivered: 0, dropped: 0, encodings: 0 }
// How long a publish waits for this instance's fan-out of its message.
const FAN_OUT_WAIT_MS = 30_000

/** The topic registry of one plugin instance. */
export class Topics implements BrokerListener {
  readonly broker: Broker
  readonly #subscribers = new Map<string, Set<TopicSubscriber>>()
  readonly #routes = new Set<TopicRoute>()
  readonly #nextAckId: () => number
  // Per subscriber and topic: messages held back while the subscription is being set up.
  readonly #held = new Map<TopicSubscriber, Map<string, TopicMessage[]>>()
  readonly #listening = new Map<string, Promise<void>>()
  // Publishes in progress, and the local fan-outs they are waiting for (key: topic + seq).
  #publishing = 0
  readonly #fanOuts = new Map<string, Promise<PublishResult>>()
  readonly #awaited = new Map<string, (fanned: Promise<PublishResult>) => void>()

  /** @param nextAckId source of message ids for ACK_REQUIRED messages (shared with direct sends) */
  constructor (broker: Broker, nextAckId: () => number) {
    this.broker = broker
    this.#nextAckId = nextAckId
    broker.attach(this)
  }

  /** Makes a route's protocol known, for validation of publishes. */
  addRoute (route: TopicRoute): void {
    this.#routes.add(route)
  }

  /** Subscribers of a topic on this instance. */
  count (topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0
  }

  /**
   * Subscribes; with `since`, finds the messages after it in history. Until `release()` is
   * called, live messages for this subscriber are held back (so none precedes the ACK or the
   * replay, and none is sent twice).
   */
  async subscribe (topic: string, subscriber: TopicSubscriber, since?: number): Promise<Subscribed> {
    let held = this.#held.get(subscriber)
    if (held === undefined) {
      held = new Map()
      this.#held.set(subscriber, held)
    }
    held.set(topic, [])
    let set = this.#subscribers.get(topic)
    if (set === undefined) {
      set = new Set()
      this.#subscribers.set(topic, set)
      this.#listening.set(topic, this.broker.listen(topic))
    }
    set.add(subscriber)
    // Every subscriber of a new topic waits until the broker listens, before reading the seq.
    try {
      await this.#listening.get(topic)
    } catch (err) {
      this.unsubscribe(topic, subscriber)
      throw err
    }
    let result: Omit<Subscribed, 'release'>
    if (since === undefined) {
      result = { seq: await this.broker.currentSeq(topic), replay: [] }
    } else {
      const slice = await this.broker.history(topic, since)
      result = slice.complete
        ? { seq: slice.currentSeq, recovered: true, replay: slice.messages }
        : { seq: slice.currentSeq, recovered: false, first_seq: slice.firstSeq, replay: slice.messages }
    }
    const last = Math.max(result.seq, result.replay.at(-1)?.seq ?? 0)
    return {
      ...result,
      release: () => {
        const waiting = this.#held.get(subscriber)?.get(topic) ?? []
        this.#held.get(subscriber)?.delete(topic)
        for (const message of waiting) {
          if (message.seq > last) this.#fanOut(message, [subscriber]).catch(() => {})
        }
      }
    }
  }

  /** Removes a subscriber; returns whether it was subscribed. */
  unsubscribe (topic: string, subscriber: TopicSubscriber): boolean {
    this.#held.get(subscriber)?.delete(topic)
    const set = this.#subscribers.get(topic)
    if (set === undefined || !set.delete(subscriber)) return false
    if (set.size === 0) {
      this.#subscribers.delete(topic)
      this.#listening.delete(topic)
      this.broker.unlisten(topic).catch(() => {})
    }
    return true
  }

  /** Forgets a subscriber everywhere (its connection closed). */
  removeEverywhere (subscriber: TopicSubscriber, topics: Iterable<string>): void {
    for (const topic of topics) this.unsubscribe(topic, subscriber)
    this.#held.delete(subscriber)
  }

  /** The topic's current seq. */
  async currentSeq (topic: string): Promise<number> {
    return await this.broker.currentSeq(topic)
  }

  /**
   * Publishes an EVENT with the BROADCAST flag and `topic` and `seq` in its envelope: validated
   * once against every route that knows the event, handed to the broker once, encoded once per
   * variant on each instance. Resolves when this instance has written it to its subscribers.
   */
  async publish (topic: string, eventType: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    let known = false
    for (const route of this.#routes) {
      const schema = route.events.get(eventType)
      if (schema === undefined) continue
      known = true
      if (!route.validateOutgoing) continue
      const invalid = validatePayload(schema, payload, eventType)
      if (invalid !== undefined) throw invalid
    }
    if (!known && this.#routes.size > 0) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', eventType)
    const message = { topic, eventType, payload, timestamp: Date.now(), priority: options.priority === true, ack: options.ack === true }
    this.#publishing++
    let seq: number
    try {
      seq = await this.broker.publish(message)
    } finally {
      this.#publishing--
    }
    if (this.count(topic) === 0) return { ...EMPTY, seq }
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
        resolve({ ...EMPTY, seq, dropped: this.count(topic) })
      }, FAN_OUT_WAIT_MS)
      timer.unref?.()
      this.#awaited.set(key, (fanned) => {
        clearTimeout(timer)
        fanned.then(resolve, () => resolve({ ...EMPTY, seq }))
      })
    })
  }

  /** From the broker: one message of a topic this instance listens to. */
  message (message: TopicMessage): void {
    const live = [...(this.#subscribers.get(message.topic) ?? [])].filter((s) => {
      const held = this.#held.get(s)?.get(message.topic)
      if (held === undefined) return true
      held.push(message)
      return false
    })
    const fanned = this.#fanOut(message, live)
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

  /** From the broker: messages lost; every local subscriber of the topic is told. */
  gap (topic: string, _from: number, to: number): void {
    for (const subscriber of this.#subscribers.get(topic) ?? []) subscriber.lost(topic, to, to + 1)
  }

  /** Encodes once per variant among `subscribers` and writes to each. */
  async #fanOut (message: TopicMessage, subscribers: TopicSubscriber[]): Promise<PublishResult> {
    if (subscribers.length === 0) return { ...EMPTY, seq: message.seq }
    const ackId = message.ack ? this.#nextAckId() : undefined
    const envelope: Envelope = { event_type: message.eventType, timestamp: message.timestamp, payload: message.payload, topic: message.topic, seq: message.seq, ...(ackId === undefined ? {} : { id: ackId }) }
    const flags = Flag.BROADCAST | (message.priority ? Flag.PRIORITY : 0)
    const variants = new Map<MessageEncoder, Promise<EncodedMessage>>()
    const deliveries = subscribers.map(async (subscriber) => {
      const { encoder } = subscriber
      const ack = ackId !== undefined && encoder.settings.version === 3
      let encoded = variants.get(encoder)
      if (encoded === undefined) {
        encoded = encoder.encodeMessage({ type: MessageType.EVENT, flags: flags | (ack ? Flag.ACK_REQUIRED : 0), envelope })
        variants.set(encoder, encoded)
      }
      // A message that must be acknowledged is never dropped, as PRIORITY ones are not.
      return await subscriber.deliver(encoded, MessageType.EVENT, !message.priority && !ack, ack ? ackId : undefined)
    })
    const results = await Promise.allSettled(deliveries)
    const delivered = results.filter((r) => r.status === 'fulfilled' && r.value).length
    const result: PublishResult = { seq: message.seq, delivered, dropped: subscribers.length - delivered, encodings: variants.size }
    if (ackId !== undefined) result.acked = delivered
    return result
  }
}
