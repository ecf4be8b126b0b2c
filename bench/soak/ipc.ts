/**
 * What bench/soak.ts and its load process (bench/soak/load.ts) tell each other over the IPC
 * channel: the load's configuration, the server's comings and goings, and the final tallies.
 */
import type { SeqCounts } from './accounting.js'

/** The roles of load connections. */
export const ROLES = ['subscriber', 'slow', 'large', 'hostile'] as const
/** A role. */
export type Role = typeof ROLES[number]

/** The load process's configuration (JSON in its first argument). */
export interface LoadConfig {
  /** ws://host:port/ws */
  base: string
  /** Connections per role. */
  counts: Record<Role, number>
  /** Patient ids: topics `ecg/<id>`. */
  patients: string[]
  seed: number
  /** Largest `samples` of a large client's ecg.history (each asks 80-100% of it; slow clients 2-5%). */
  samples: number
  /** ecg.history requests a large client sends per round without reading. */
  inFlight: number
  /** Seconds a slow or large client stops reading: [min, max]. */
  pauseSeconds: [number, number]
  /** Seconds between a subscriber's reconnections with `since` (resume): [min, max]. */
  resumeSeconds: [number, number]
  /** Attack names the hostile clients use. */
  attacks: string[]
  /** Data bytes per unfinished chunk. */
  chunkBytes: number
  /** SUBSCRIBEs per many-subscriptions burst. */
  manySubscriptions: number
  /** New connections per second while ramping up. */
  rampPerSecond: number
  /** Give the final UNSUBSCRIBEs (and what is queued before their ACK) this long. */
  drainMs: number
}

/** Tallies of one role. */
export interface RoleStats {
  /** Connections of this role (configured). */
  clients: number
  /** Successful connections (negotiated), reconnections included. */
  connects: number
  /** Connection attempts that failed while the server was up, by reason (`HTTP 431`, `ECONNRESET`...). */
  refused: Record<string, number>
  /** Closes the server initiated, by close code (1006: the socket ended without a close frame). */
  closed: Record<string, number>
  /** Connections lost to a server crash. */
  closedByCrash: number
  /** Connection attempts that failed while the server was down (restart pending). */
  failedWhileDown: number
  /** ERROR messages received, by wire code. */
  errors: Record<string, number>
  /** Messages the client could not decode. */
  decodeErrors: number
  /** Topic messages by seq. */
  seq: SeqCounts
  /** Final UNSUBSCRIBEs without an answer in time (their topics had no tail check). */
  unsubscribeTimeouts: number
  /** Topic messages for a topic the client was not subscribed to. */
  strays: number
}

/** The large clients' (and slow clients') ecg.history requests. */
export interface HistoryStats {
  requests: number
  /** Responses with exactly `samples` values. */
  ok: number
  /** Responses with another number of values. */
  wrong: number
  /** ERROR answers, by wire code. */
  errors: Record<string, number>
  /** No answer: the connection closed or the time ran out. */
  unanswered: number
}

/** One attack's tallies. */
export interface AttackStats {
  sent: number
  /** ERROR answers on the connections that sent it (a hostile connection sticks to one attack), by wire code. */
  errors: Record<string, number>
  /** Closes of those connections by the server, by close code. */
  closed: Record<string, number>
  /** What happened to attacks with their own connection. */
  outcomes: Record<string, number>
}

/** Everything the load process counted. */
export interface LoadStats {
  roles: Record<Role, RoleStats>
  history: HistoryStats
  slowPauses: number
  attacks: Record<string, AttackStats>
}

/** Parent to load process. */
export type ToLoad =
  /** The bystander has its baseline: the hostile clients may start. */
  | { type: 'go' }
  | { type: 'down', at: number }
  | { type: 'up' }
  /** Stop the load; `quick`: do not wait for the final UNSUBSCRIBEs (no tail check). */
  | { type: 'stop', quick: boolean }
  | { type: 'exit' }

/** Load process to parent. */
export type FromLoad =
  | { type: 'ready', connected: number, failed: number }
  | { type: 'down-ack', suspects: Record<string, number> }
  | { type: 'stats', stats: LoadStats }

/** An empty tally: no prototype, so a key like `constructor` or `__proto__` is just a key. */
export function tally (): Record<string, number> {
  return Object.create(null) as Record<string, number>
}

/** Adds one to `key` in a tally. */
export function bump (record: Record<string, number>, key: string): void {
  record[key] = (Object.hasOwn(record, key) ? record[key] as number : 0) + 1
}

/** `record[key]` when it is the record's own, else undefined (never a prototype's property). */
export function own<T> (record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}
