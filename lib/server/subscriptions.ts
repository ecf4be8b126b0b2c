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
import { fewDelete, fewHas, fewNames, fewSet, fewSize } from '../session/few-map.js'
import type { FewMap } from '../session/few-map.js'
import { clip } from './bounded-log.js'
import type { RouteContext } from './types.js'
import type { WireboxConnection } from './connection.js'
import type { Outbound } from './outbound.js'

/** What subscriptions need of their connection. */
export interface SubscriptionsOwner {
  readonly connection: WireboxConnection
  readonly route: RouteContext
  readonly encoder: MessageEncoder
  /** True once the connection closed. */
  readonly closed: boolean
  readonly outbound: Outbound
  /** Sends a control message; resolves once it is written. */
  sendControl (type: number, fields: MessageFields): Promise<boolean>
  /** Queues an encoded message (optionally awaiting its ACK); whether it was written (acknowledged), at once when it could be. */
  deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, eventType?: string): boolean | Promise<boolean>
  /** Answers with the catalog's ERROR. */
  fail (err: unknown, id?: number, eventType?: string): void
}

/**
 * One connection's topics. It is also how topics reach the connection (the TopicSubscriber the
 * registry holds): its methods, not closures made per connection.
 */
export class ClientSubscriptions implements TopicSubscriber {
  // Topics the connection is subscribed to (flat while few: most connections follow one or two).
  #topics: FewMap<true>
  readonly #owner: SubscriptionsOwner
  // The last SUBSCRIBE or UNSUBSCRIBE not yet done (undefined when none is), and how many are.
  #ops: Promise<void> | undefined
  #pending = 0

  constructor (owner: SubscriptionsOwner) {
    this.#owner = owner
  }

  /** Topics the connection is subscribed to, in the order subscribed. */
  topics (): string[] {
    return fewNames(this.#topics)
  }

  /** TopicSubscriber: the shared encoder of the connection's variant. */
  get encoder (): MessageEncoder {
    return this.#owner.encoder
  }

  /** TopicSubscriber: true while the send buffer is above the high-water mark. */
  get congested (): boolean {
    return this.#owner.outbound.congested
  }

  /** TopicSubscriber: runs `fn` once the send buffer has drained. */
  whenDrained (fn: () => void): void {
    this.#owner.outbound.whenDrained(fn)
  }

  /** TopicSubscriber: a topic message not written live. */
  deferred (): void {
    this.#owner.route.metrics.dropped++
  }

  /** TopicSubscriber: queues a topic message. */
  deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, eventType?: string): boolean | Promise<boolean> {
    return this.#owner.deliver(encoded, type, droppable, ackId, eventType)
  }

  /** TopicSubscriber: tells the client that messages of a topic were lost. */
  lost (topic: string, currentSeq: number, firstSeq: number): void {
    this.#owner.sendControl(MessageType.SUBSCRIPTION_ACK, { payload: { topic, seq: currentSeq, recovered: false, first_seq: firstSeq } })
      .catch((err: unknown) => this.#owner.fail(err))
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
    // The connection reads on while these wait (a hook may be slow): no more of them pending at
    // once than the connection may have subscriptions.
    const max = this.#owner.route.options.maxSubscriptions
    if (this.#pending >= max) {
      this.#owner.fail(new errors.WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS(max), id, name)
      return undefined
    }
    this.#pending++
    // One at a time, in the order received: the answers keep request order.
    const op: Promise<void> = (this.#ops ?? Promise.resolve())
      .then(async () => type === MessageType.SUBSCRIBE ? await this.#subscribe(topic, since, id) : await this.#unsubscribe(topic, id))
      .catch((err: unknown) => this.#owner.fail(err, id, name))
      .then(() => { if (--this.#pending === 0) this.#ops = undefined })
    this.#ops = op
    return op
  }

  /** Subscribes on the server's behalf; resolves to the topic's seq. */
  async add (topic: string): Promise<number> {
    const subscribed = await this.#owner.route.topics.subscribe(topic, this)
    if (this.#owner.closed) {
      // Closed while the broker answered: the connection's topics were already forgotten.
      this.#owner.route.topics.unsubscribe(topic, this)
      return subscribed.seq
    }
    this.#topics = fewSet(this.#topics, topic, true)
    subscribed.start()
    return subscribed.seq
  }

  /** Unsubscribes; returns whether it was subscribed. */
  remove (topic: string): boolean {
    this.#topics = fewDelete(this.#topics, topic)
    return this.#owner.route.topics.unsubscribe(topic, this)
  }

  /** Forgets every subscription (the connection closed). */
  clear (): void {
    this.#owner.route.topics.removeEverywhere(this, fewNames(this.#topics))
    this.#topics = undefined
  }

  async #unsubscribe (topic: string, id: number | undefined): Promise<void> {
    // The seq this connection had reached; a topic it was not subscribed to tells nothing (0).
    const seq = this.#owner.route.topics.position(topic, this) ?? 0
    this.remove(topic)
    await this.#owner.sendControl(MessageType.SUBSCRIPTION_ACK, { id, payload: { topic, seq } })
  }

  async #subscribe (topic: string, since: number | undefined, id: number | undefined): Promise<void> {
    const max = this.#owner.route.options.maxSubscriptions
    if (!fewHas(this.#topics, topic) && fewSize(this.#topics) >= max) throw new errors.WIREBOX_ERR_TOO_MANY_SUBSCRIPTIONS(max)
    const authorize = this.#owner.route.authorizeSubscribe
    // A hook that throws synchronously is caught like one that rejects.
    const allowed = authorize === undefined ? true : await authorize(topic, this.#owner.connection)
    if (allowed !== true) throw new errors.WIREBOX_ERR_PERMISSION_DENIED(`topic ${clip(topic)}`)
    if (this.#owner.closed) return
    const subscribed = await this.#owner.route.topics.subscribe(topic, this, since)
    if (this.#owner.closed) {
      this.#owner.route.topics.unsubscribe(topic, this)
      return
    }
    this.#topics = fewSet(this.#topics, topic, true)
    const { seq, recovered, first_seq: firstSeq } = subscribed
    // The ACK is written before any replayed or live message of the topic.
    await this.#owner.sendControl(MessageType.SUBSCRIPTION_ACK, {
      id,
      payload: { topic, seq, ...(recovered === undefined ? {} : { recovered }), ...(firstSeq === undefined ? {} : { first_seq: firstSeq }) }
    })
    subscribed.start()
  }
}
