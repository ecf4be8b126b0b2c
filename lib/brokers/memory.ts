/**
 * The default broker: one instance, no setup. Seq per topic and a bounded history in memory;
 * delivery is immediate. A topic nobody listens to is forgotten once its history has expired,
 * and at most `maxTopics` such topics are remembered (the least recently published go first), so
 * memory depends on the options, not on how many topics clients invent. A forgotten topic starts
 * again at seq 1; a client resuming it with an older `since` is told `recovered: false`.
 */
import { HISTORY_DEFAULTS } from './broker.js'
import type { Broker, BrokerListener, HistoryOptions, HistorySlice, TopicMessage } from './broker.js'

interface TopicState {
  seq: number
  history: TopicMessage[]
}

/** Creates the in-memory broker. */
export function memoryBroker (options: HistoryOptions = {}): Broker {
  const size = options.historySize ?? HISTORY_DEFAULTS.historySize
  const ttl = options.historyTtlMs ?? HISTORY_DEFAULTS.historyTtlMs
  const maxTopics = options.maxTopics ?? HISTORY_DEFAULTS.maxTopics
  // In order of last publish (a publish moves its topic to the end).
  const topics = new Map<string, TopicState>()
  const listening = new Set<string>()
  let listener: BrokerListener | undefined

  const expire = (state: TopicState, now: number): void => {
    const { history } = state
    let drop = 0
    while (drop < history.length && now - (history[drop] as TopicMessage).timestamp > ttl) drop++
    if (drop > 0) history.splice(0, drop)
  }

  /** Forgets the oldest topics nobody listens to beyond maxTopics; `all`: also every expired one. */
  const sweep = (all: boolean): void => {
    const now = Date.now()
    let excess = topics.size - maxTopics
    for (const [topic, state] of topics) {
      if (!all && excess <= 0) break
      if (listening.has(topic)) continue
      expire(state, now)
      if (state.history.length === 0 || excess > 0) {
        topics.delete(topic)
        excess--
      }
    }
  }
  const timer = setInterval(() => sweep(true), Math.min(ttl, 60_000))
  timer.unref()

  return {
    name: 'memory',
    trusted: true,
    attach (l) { listener = l },
    async publish (message) {
      let state = topics.get(message.topic)
      if (state === undefined) {
        state = { seq: 0, history: [] }
      } else {
        topics.delete(message.topic)
      }
      topics.set(message.topic, state)
      if (topics.size > maxTopics) sweep(false)
      const full: TopicMessage = { ...message, seq: ++state.seq }
      if (size > 0) {
        state.history.push(full)
        if (state.history.length > size) state.history.splice(0, state.history.length - size)
      }
      if (listening.has(message.topic)) listener?.message(full)
      return full.seq
    },
    async listen (topic) { listening.add(topic) },
    async unlisten (topic) { listening.delete(topic) },
    async currentSeq (topic) { return topics.get(topic)?.seq ?? 0 },
    async history (topic, since): Promise<HistorySlice> {
      const state = topics.get(topic)
      const currentSeq = state?.seq ?? 0
      if (state !== undefined) expire(state, Date.now())
      const history = state?.history ?? []
      const firstSeq = history[0]?.seq ?? currentSeq + 1
      const messages = history.filter((m) => m.seq > since)
      // A `since` beyond the current seq was seen in another history: not recoverable.
      return { messages, currentSeq, firstSeq, complete: since <= currentSeq && (since === currentSeq || firstSeq <= since + 1) }
    },
    stats: () => ({ malformed: 0, gaps: 0, replayed: 0 }),
    async close () {
      clearInterval(timer)
      topics.clear()
      listening.clear()
    }
  }
}
