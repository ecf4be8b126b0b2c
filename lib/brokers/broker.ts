/**
 * The broker behind topics: assigns each topic message its `seq` (monotonic per topic, across
 * server instances), keeps a bounded history for resume, and delivers every message to every
 * instance that listens to its topic. In memory (one instance) or Redis (several).
 */

/** A topic message as brokers carry it (the payload is not yet encoded for any client). */
export interface TopicMessage {
  topic: string
  seq: number
  eventType: string
  payload: unknown
  /** Publish time, ms since the Unix epoch. */
  timestamp: number
  /** Sent with the PRIORITY flag. */
  priority: boolean
  /** Sent with ACK_REQUIRED to version-3 subscribers. */
  ack: boolean
}

/** What `history` found. */
export interface HistorySlice {
  /** Messages with seq > since, in order (empty when nothing is missing or nothing is left). */
  messages: TopicMessage[]
  /** The topic's current seq. */
  currentSeq: number
  /** The oldest seq still in history (currentSeq + 1 when history is empty). */
  firstSeq: number
  /** True when history reaches back to since + 1, so `messages` is everything after `since`. */
  complete: boolean
}

/** Bounds of a topic's history. */
export interface HistoryOptions {
  /** Messages kept per topic (default 1000). */
  historySize?: number
  /** Messages older than this many ms are not replayed (default 300000: 5 minutes). */
  historyTtlMs?: number
  /** Topics whose seq and history are remembered while nobody listens (memory broker; default 10000). */
  maxTopics?: number
}

/** Defaults of HistoryOptions. */
export const HISTORY_DEFAULTS = Object.freeze({ historySize: 1000, historyTtlMs: 300_000, maxTopics: 10_000 })

/** Receives delivered messages, and gaps that history could not fill. */
export interface BrokerListener {
  /** A message of a topic this instance listens to, in seq order per topic, once each. */
  message (message: TopicMessage): void
  /** Messages `from` to `to` of `topic` were lost (history no longer had them). */
  gap (topic: string, from: number, to: number): void
}

/** A topic broker. */
export interface Broker {
  /** A name for logs. */
  readonly name: string
  /** True when what it delivers comes only from this process (no validation needed); default false. */
  readonly trusted?: boolean
  /** Sets the receiver of messages (the topic registry). */
  attach (listener: BrokerListener): void
  /** Publishes; resolves with the assigned seq once the broker has accepted the message. */
  publish (message: Omit<TopicMessage, 'seq'>): Promise<number>
  /** Starts delivering a topic's messages to this instance. */
  listen (topic: string): Promise<void>
  /** Stops delivering a topic's messages to this instance. */
  unlisten (topic: string): Promise<void>
  /** The topic's current seq (0 before its first message). */
  currentSeq (topic: string): Promise<number>
  /** Messages after `since`, from history. */
  history (topic: string, since: number): Promise<HistorySlice>
  /** Counters: malformed messages dropped, gaps reported, replays done. */
  stats (): { malformed: number, gaps: number, replayed: number }
  /** Releases connections and timers. */
  close (): Promise<void>
}
