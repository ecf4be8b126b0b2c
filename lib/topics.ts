/**
 * In-memory topics: which connections listen to which topic, a per-topic sequence number, and a
 * publish that encodes each message once per variant (route x encoding x version x compression)
 * present among the subscribers and hands the same frames to every socket of that variant.
 */
import { Flag, MessageType } from './core/constants.js'
import type { EncodedMessage, MessageEncoder } from './core/wire.js'
import type { Envelope } from '../schemas/envelope.js'
import { validatePayload } from './protocol.js'
import { errors } from './errors.js'

/** What topics need of a connection. */
export interface TopicSubscriber {
  /** The shared encoder of the connection's variant: its identity is the variant. */
  readonly encoder: MessageEncoder
  /** The route, for its protocol and options. */
  readonly route: TopicRoute
  /** Queues an encoded message; resolves to false when dropped (back-pressure) or closed. */
  deliver (encoded: Promise<EncodedMessage>, type: number, droppable: boolean, ackId?: number): Promise<boolean>
}

/** What topics need of a route. */
export interface TopicRoute {
  readonly events: Record<string, import('@sinclair/typebox').TSchema> | undefined
  readonly validateOutgoing: boolean
}

/** Options of a publish. */
export interface PublishOptions {
  /** PRIORITY: never dropped under back-pressure (default false). */
  priority?: boolean
  /** ACK_REQUIRED (version 3 subscribers): resolve after every recipient's ACK or its timeout (default false). */
  ack?: boolean
}

/** What a publish did. */
export interface PublishResult {
  /** The message's sequence number in its topic. */
  seq: number
  /** Sockets the message was written to. */
  delivered: number
  /** Sockets it was dropped for (back-pressure, or closed meanwhile). */
  dropped: number
  /** Distinct encodings done (one per variant). */
  encodings: number
  /** With `ack`: recipients that acknowledged. */
  acked?: number
}

/** The in-memory topic registry shared by every route of one plugin instance. */
export class Topics {
  readonly #subscribers = new Map<string, Set<TopicSubscriber>>()
  readonly #seq = new Map<string, number>()
  readonly #nextAckId: () => number

  /** @param nextAckId source of message ids for ACK_REQUIRED messages (shared with direct sends) */
  constructor (nextAckId: () => number) {
    this.#nextAckId = nextAckId
  }

  /** Adds a subscriber; returns the topic's current seq. */
  subscribe (topic: string, subscriber: TopicSubscriber): number {
    let set = this.#subscribers.get(topic)
    if (set === undefined) {
      set = new Set()
      this.#subscribers.set(topic, set)
    }
    set.add(subscriber)
    return this.currentSeq(topic)
  }

  /** Removes a subscriber; returns whether it was subscribed. */
  unsubscribe (topic: string, subscriber: TopicSubscriber): boolean {
    const set = this.#subscribers.get(topic)
    if (set === undefined || !set.delete(subscriber)) return false
    if (set.size === 0) this.#subscribers.delete(topic)
    return true
  }

  /** The last seq published on `topic` (0 before the first). */
  currentSeq (topic: string): number {
    return this.#seq.get(topic) ?? 0
  }

  /** Subscribers of a topic now. */
  count (topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0
  }

  /**
   * Publishes an EVENT with the BROADCAST flag and `topic` and `seq` in its envelope. The payload
   * is validated once per route, encoded once per variant.
   */
  async publish (topic: string, eventType: string, payload: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const subscribers = [...(this.#subscribers.get(topic) ?? [])]
    const checkedRoutes = new Set<TopicRoute>()
    for (const { route } of subscribers) {
      if (!route.validateOutgoing || checkedRoutes.has(route)) continue
      checkedRoutes.add(route)
      const schema = route.events?.[eventType]
      if (schema === undefined) throw new errors.WIREBOX_ERR_UNKNOWN_EVENT('event', eventType)
      const invalid = validatePayload(schema, payload, eventType)
      if (invalid !== undefined) throw invalid
    }
    const seq = this.currentSeq(topic) + 1
    this.#seq.set(topic, seq)
    const flags = Flag.BROADCAST | (options.priority === true ? Flag.PRIORITY : 0)
    const ackId = options.ack === true ? this.#nextAckId() : undefined
    const envelope: Envelope = { event_type: eventType, timestamp: Date.now(), payload, topic, seq, ...(ackId === undefined ? {} : { id: ackId }) }
    const variants = new Map<MessageEncoder, Promise<EncodedMessage>>()
    const deliveries = subscribers.map((subscriber) => {
      const { encoder } = subscriber
      let encoded = variants.get(encoder)
      if (encoded === undefined) {
        const ack = ackId !== undefined && encoder.settings.version === 3
        encoded = encoder.encodeMessage({ type: MessageType.EVENT, flags: flags | (ack ? Flag.ACK_REQUIRED : 0), envelope })
        variants.set(encoder, encoded)
      }
      const ack = ackId !== undefined && encoder.settings.version === 3
      return subscriber.deliver(encoded, MessageType.EVENT, options.priority !== true && !ack, ack ? ackId : undefined)
    })
    const results = await Promise.allSettled(deliveries)
    const delivered = results.filter((r) => r.status === 'fulfilled' && r.value).length
    const result: PublishResult = { seq, delivered, dropped: subscribers.length - delivered, encodings: variants.size }
    if (ackId !== undefined) result.acked = delivered
    return result
  }

  /** Forgets a subscriber everywhere (its connection closed). */
  removeEverywhere (subscriber: TopicSubscriber, topics: Iterable<string>): void {
    for (const topic of topics) this.unsubscribe(topic, subscriber)
  }
}
