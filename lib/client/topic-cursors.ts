/**
 * Where the client stands in each topic it subscribed to: the last `seq` received, so that a
 * resume asks for what follows, no topic message is delivered twice, and every gap is reported
 * (PROTOCOL.md section 1, "Resume" and "Lost messages").
 */
import type { SubscriptionAck } from '../../schemas/subscription.js'
import { fewDelete, fewGet, fewHas, fewNames, fewSet } from '../session/few-map.js'
import type { FewMap } from '../session/few-map.js'

/**
 * Messages of a topic the client will never receive: `from` to `to`, in the topic's seq.
 * `reset`: the server's history of the topic started over (a restarted server, an expired
 * topic), so what followed `from - 1` in the old numbering is unknown (`to` is undefined) and
 * the numbering continues from `next`.
 */
export interface TopicGap {
  topic: string
  from: number
  to: number | undefined
  /** The first seq the client receives after the gap. */
  next: number
  reset: boolean
}

/** The client's topics and the last seq seen on each (a FewMap: most clients follow a few). */
export class TopicCursors {
  #last: FewMap<number | undefined>

  /** Topics subscribed to, to subscribe again after a reconnect. */
  topics (): string[] {
    return fewNames(this.#last)
  }

  /** Whether the client is subscribed to `topic`. */
  has (topic: string): boolean {
    return fewHas(this.#last, topic)
  }

  /** The last seq received on `topic` (undefined before the first answer). */
  last (topic: string): number | undefined {
    return fewGet(this.#last, topic)
  }

  /** Starts following `topic` (no seq known yet, unless it was followed already). */
  add (topic: string): void {
    if (!fewHas(this.#last, topic)) this.#last = fewSet(this.#last, topic, undefined)
  }

  /** Stops following `topic`. */
  remove (topic: string): void {
    this.#last = fewDelete(this.#last, topic)
  }

  /** A topic message arrived: true when it is new (not at or below the last seq). */
  accept (topic: string, seq: number): boolean {
    if (!fewHas(this.#last, topic)) return true
    if (seq <= (fewGet(this.#last, topic) ?? 0)) return false
    this.#last = fewSet(this.#last, topic, seq)
    return true
  }

  /**
   * The answer to a SUBSCRIBE sent with `since` (undefined: a first subscription, which starts at
   * the topic's seq), or a notice without id: returns the gap it reports, if any.
   */
  answer (ack: SubscriptionAck, since: number | undefined, solicited: boolean): TopicGap | undefined {
    const { topic } = ack
    if (!fewHas(this.#last, topic)) return undefined
    if (solicited && since === undefined) {
      this.#last = fewSet(this.#last, topic, ack.seq)
      return undefined
    }
    if (ack.recovered !== false) return undefined
    const next = ack.first_seq ?? ack.seq + 1
    const last = since ?? fewGet(this.#last, topic) ?? 0
    this.#last = fewSet(this.#last, topic, next - 1)
    const reset = last >= next
    if (!reset && next <= last + 1) return undefined
    return { topic, from: last + 1, to: reset ? undefined : next - 1, next, reset }
  }
}
