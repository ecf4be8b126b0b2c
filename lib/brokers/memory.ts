/**
 * The default broker: one instance, no setup. Seq per topic and a bounded history in memory;
 * delivery is immediate.
 */
import { HISTORY_DEFAULTS } from './broker.js'
import type { Broker, BrokerListener, HistoryOptions, HistorySlice, TopicMessage } from './broker.js'

/** Creates the in-memory broker. */
export function memoryBroker (options: HistoryOptions = {}): Broker {
  const size = options.historySize ?? HISTORY_DEFAULTS.historySize
  const ttl = options.historyTtlMs ?? HISTORY_DEFAULTS.historyTtlMs
  const seqs = new Map<string, number>()
  const histories = new Map<string, TopicMessage[]>()
  const listening = new Set<string>()
  let listener: BrokerListener | undefined

  const alive = (topic: string, now: number): TopicMessage[] => {
    const history = histories.get(topic) ?? []
    let drop = 0
    while (drop < history.length && now - (history[drop] as TopicMessage).timestamp > ttl) drop++
    if (drop > 0) history.splice(0, drop)
    return history
  }

  return {
    name: 'memory',
    attach (l) { listener = l },
    async publish (message) {
      const seq = (seqs.get(message.topic) ?? 0) + 1
      seqs.set(message.topic, seq)
      const full: TopicMessage = { ...message, seq }
      if (size > 0) {
        let history = histories.get(message.topic)
        if (history === undefined) {
          history = []
          histories.set(message.topic, history)
        }
        history.push(full)
        if (history.length > size) history.splice(0, history.length - size)
      }
      if (listening.has(message.topic)) listener?.message(full)
      return seq
    },
    async listen (topic) { listening.add(topic) },
    async unlisten (topic) { listening.delete(topic) },
    async currentSeq (topic) { return seqs.get(topic) ?? 0 },
    async history (topic, since): Promise<HistorySlice> {
      const currentSeq = seqs.get(topic) ?? 0
      const history = alive(topic, Date.now())
      const firstSeq = history[0]?.seq ?? currentSeq + 1
      const messages = history.filter((m) => m.seq > since)
      // A `since` beyond the current seq was seen in another history: not recoverable.
      return { messages, currentSeq, firstSeq, complete: since <= currentSeq && (since === currentSeq || firstSeq <= since + 1) }
    },
    stats: () => ({ malformed: 0, gaps: 0, replayed: 0 }),
    async close () {
      histories.clear()
      listening.clear()
    }
  }
}
