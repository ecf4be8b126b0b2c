/** What topics need of connections and routes, and what publishing and subscribing return. */
import type { TSchema } from '@sinclair/typebox'
import type { EncodedMessage, MessageEncoder } from '../core/wire.js'

/** What topics need of a connection. */
export interface TopicSubscriber {
  /** The shared encoder of the connection's variant: its identity is the variant. */
  readonly encoder: MessageEncoder
  /** True while the send buffer is above the high-water mark (with the `close` policy, it is closing). */
  readonly congested: boolean
  /** Runs `fn` once the send buffer has drained (never, if the connection closes first). */
  whenDrained (fn: () => void): void
  /** Counts a topic message not written live (it is caught up from history, or announced lost). */
  deferred (): void
  /** Queues an encoded message behind what is queued; resolves to false when the connection closed. */
  deliver (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, ackId?: number, eventType?: string): boolean | Promise<boolean>
  /** Tells the client that messages of a topic were lost: an unsolicited SUBSCRIPTION_ACK. */
  lost (topic: string, currentSeq: number, firstSeq: number): void
}

/** What topics need of a route. */
export interface TopicRoute {
  readonly events: ReadonlyMap<string, TSchema>
  readonly validateOutgoing: boolean
}

/** Options of a publish. */
export interface PublishOptions {
  /** PRIORITY: written even above a subscriber's high-water mark (default false). */
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
  /** Local sockets it was not written to now: closed, no ACK, or behind (they catch up from history). */
  dropped: number
  /** Distinct encodings done (one per variant). */
  encodings: number
  /** With `ack`: local recipients that acknowledged. */
  acked?: number
}

/** What a subscription found: the SUBSCRIPTION_ACK fields. */
export interface Subscribed {
  seq: number
  recovered?: boolean
  first_seq?: number
  /** Call once the SUBSCRIPTION_ACK is written: replays what is missed, then goes live. */
  start: () => void
}

/** A publish that reached no local subscriber. */
export const EMPTY_RESULT: Readonly<PublishResult> = Object.freeze({ seq: 0, delivered: 0, dropped: 0, encodings: 0 })
