/** Test helpers for brokers: a listener that records what it is told, and a hand-made Redis writer. */
import { encode } from '@msgpack/msgpack'
import type { Redis } from 'ioredis'
import type { BrokerListener, TopicMessage } from '../lib/brokers/broker.js'

/** One thing a broker told its listener. */
export type Told = { message: TopicMessage } | { gap: [number, number] }

/** A BrokerListener that records messages and gaps per topic, in order. */
export class BrokerLog implements BrokerListener {
  readonly told = new Map<string, Told[]>()

  message (message: TopicMessage): void {
    this.#of(message.topic).push({ message })
  }

  gap (topic: string, from: number, to: number): void {
    this.#of(topic).push({ gap: [from, to] })
  }

  /** Seqs of the messages delivered for `topic`. */
  seqs (topic: string): number[] {
    return this.#of(topic).flatMap((t) => 'message' in t ? [t.message.seq] : [])
  }

  /** Gaps reported for `topic`. */
  gaps (topic: string): Array<[number, number]> {
    return this.#of(topic).flatMap((t) => 'gap' in t ? [t.gap] : [])
  }

  /** Every seq the listener was told about (delivered, or inside a gap), in the order told. */
  covered (topic: string): number[] {
    return this.#of(topic).flatMap((t) => 'message' in t ? [t.message.seq] : Array.from({ length: t.gap[1] - t.gap[0] + 1 }, (_, i) => t.gap[0] + i))
  }

  #of (topic: string): Told[] {
    let list = this.told.get(topic)
    if (list === undefined) {
      list = []
      this.told.set(topic, list)
    }
    return list
  }
}

/** MessagePack bytes of a stored topic message `{ e, p, t, r, a }` with `fields` overriding the valid defaults. */
export function wireBytes (fields: Record<string, unknown> = {}): Buffer {
  return Buffer.from(encode({ e: 'chat.echo', p: { room: 'r', text: 'hand-made' }, t: Date.now(), r: false, a: false, ...fields }))
}

/**
 * Writes a topic message the way another writer might: sets the counter to `seq`, adds stream
 * entry `<seq>-0` and PUBLISHes `<seq>:<bytes>` (`stream: false` or `publish: false` leave a step out).
 */
export async function handPublish (redis: Redis, prefix: string, topic: string, seq: number, bytes: Buffer, steps: { stream?: boolean, publish?: boolean } = {}): Promise<void> {
  await redis.set(`${prefix}:seq:${topic}`, String(seq))
  if (steps.stream !== false) await redis.xadd(`${prefix}:stream:${topic}`, `${seq}-0`, 'm', bytes)
  if (steps.publish !== false) await redis.publish(`${prefix}:msg:${topic}`, Buffer.concat([Buffer.from(`${seq}:`), bytes]))
}
