/**
 * One connection's subscriptions (PROTOCOL.md section 1, "Subscriptions" and "Subscription
 * order"): SUBSCRIBE and UNSUBSCRIBE handled one at a time in the order received, topic names
 * checked, `authorizeSubscribe` asked, the per-connection cap applied; the SUBSCRIPTION_ACK
 * written before any message of the topic. Topics see the connection only through the
 * subscriber made here.
 */
import { MessageType } from '../core/constants.js'
import type { EncodedMessage, MessageEncoder } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { Subscription } from '../../schemas/subscription.js'
import type { Subscription as SubscriptionPayload } from '../../schemas/subscription.js'
import { errors } from '../errors.js'
import { validatePayload } from '../protocol.js'
import type { MessageFields } from '../session/session.js'
import type { TopicSubscriber } from '../topics/registry.js'
import { topicProblem } from '../topics/topic-name.js'
import { clip } from './bounded-log.js'
import type { RouteContext } from './types.js'
import type { WireboxConnection } from './connection.js'
import type { Outbound } from './outbound.js'

/** What subscriptions need of their connection. */
export interface SubscriptionsOwner {
  readonly connection: WireboxConnection
  readonly encoder: MessageEncoder
  closed: () => boolean
  readonly outbound: Outbound
  /** Sends a control message; resolves once it is written. */
  send (type: number, fields: MessageFields): Promise<boolean>
  /** Queues an encoded message (optionally awaiting its ACK); whether it was written (acknowledged), at once when it could be. */
  deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, eventType?: string): boolean | Promise<boolean>
  /** Answers with the catalog's ERROR. */
  fail (err: unknown, id?: number, eventType?: string): void
}

/** One connection's topics. */
export class ClientSubscriptions {
  /** Topics the connection is subscribed to. */
  readonly topics = new Set<string>()
  /** How topics reach the connection (not part of the connection's public API). */
  readonly subscriber: TopicSubscriber
  readonly #route: RouteContext
  readonly #owner: SubscriptionsOwner
  #ops: Promise<void> = Promise.resolve()

  constructor (route: RouteContext, owner: SubscriptionsOwner) {
    this.#route = route
    this.#owner = owner
    const { outbound } = owner
    this.subscriber = {
      encoder: owner.encoder,
      get congested () { return outbound.congested },
      whenDrained: (fn) => outbound.whenDrained(fn),
      deferred: () => { route.metrics.dropped++ },
      deliver: (encoded, type, droppable, ackId, eventType) => owner.deliver(encoded, type, droppable, ackId, eventType),
      lost: (topic, currentSeq, firstSeq) => {
        owner.send(MessageType.SUBSCRIPTION_ACK, { payload: { topic, seq: currentSeq, recovered: false, first_seq: firstSeq } }).catch(owner.fail)
      }
    }
  }

  /**
   * A SUBSCRIBE or UNSUBSCRIBE from the client. Returns a promise settled once it is done (the
   * connection reads its next message then: a request sent after a SUBSCRIBE finds the
   * subscription in place), or undefined when it was refused at once.
   */
  receive (type: number, envelope: Envelope): Promise<void> | undefined {
    const id = envelope.id
    const name = type === MessageType.SUBSCRIBE ? 'subscribe' : 'unsubscribe'
    const invalid = validatePayload(Subscription, envelope.payload, name)
    if (invalid !== undefined) {
      this.#owner.fail(invalid, id)
      return undefined
    }
    const { topic, since } = envelope.payload as SubscriptionPayload
    const bad = topicProblem(topic)
    if (bad !== undefined) {
      this.#owner.fail(bad, id)
      return undefined
    }
    // One at a time, in the order received: the answers keep request order.
    this.#ops = this.#ops
      .then(async () => type === MessageType.SUBSCRIBE ? await this.#subscribe(topic, since, id) : await this.#unsubscribe(topic, id))
      .catch((err: unknown) => this.#owner.fail(err, id, name))
    return this.#ops
  }

  /** Subscribes on the server's behalf; resolves to the topic's seq. */
  async add (topic: string): Promise<number> {
    const subscribed = await this.#route.topics.subscribe(topic, this.subscriber)
    this.topics.add(topic)
    subscribed.start()
    return subscribed.seq
  }

  /** Unsubscribes; returns whether it was subscribed. */
  remove (topic: string): boolean {
    this.topics.delete(topic)
    return this.#route.topics.unsubscribe(topic, this.subscriber)
  }

  /** Forgets every subscription (the connection closed). */
  clear (): void {
    this.#route.topics.removeEverywhere(this.subscriber, this.topics)
    this.topics.clear()
  }

  async #unsubscribe (topic: string, id: number | undefined): Promise<void> {
    // The seq this connection had reached; a topic it was not subscribed to tells nothing (0).
    const seq = this.#route.topics.position(topic, this.subscriber) ?? 0
    this.remove(topic)
    await this.#owner.send(MessageType.SUBSCRIPTION_ACK, { id, payload: { topic, seq } })
  }

  async #subscribe (topic: string, since: number | undefined, id: number | undefined): Promise<void> {
    const max = this.#route.options.maxSubscriptions
    if (!this.topics.has(topic) && this.topics.size >= max) throw new errors.WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS(max)
    const authorize = this.#route.authorizeSubscribe
    // A hook that throws synchronously is caught like one that rejects.
    const allowed = authorize === undefined ? true : await authorize(topic, this.#owner.connection)
    if (allowed !== true) throw new errors.WIREBOX_ERR_PERMISSION_DENIED(`topic ${clip(topic)}`)
    if (this.#owner.closed()) return
    const subscribed = await this.#route.topics.subscribe(topic, this.subscriber, since)
    if (this.#owner.closed()) {
      this.#route.topics.unsubscribe(topic, this.subscriber)
      return
    }
    this.topics.add(topic)
    const { seq, recovered, first_seq: firstSeq } = subscribed
    // The ACK is written before any replayed or live message of the topic.
    await this.#owner.send(MessageType.SUBSCRIPTION_ACK, {
      id,
      payload: { topic, seq, ...(recovered === undefined ? {} : { recovered }), ...(firstSeq === undefined ? {} : { first_seq: firstSeq }) }
    })
    subscribed.start()
  }
}
