/**
 * The client's defaults, in one place, the URL it connects to, and its reconnection policy:
 * exponential backoff with jitter, a bounded number of attempts.
 */

/** Reconnection with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** First delay in ms (default 250). */
  initialDelayMs?: number
  /** Largest delay in ms (default 10000). */
  maxDelayMs?: number
  /** Growth per attempt (default 2). */
  factor?: number
  /** Fraction of the delay drawn at random, 0-1 (default 0.5). */
  jitter?: number
  /** Attempts before giving up and closing (default: unlimited). */
  maxAttempts?: number
}

/** Every default of the client. */
export const CLIENT_DEFAULTS = Object.freeze({
  /** Without `protocol`; with it, 'msgpack-compact'. */
  encoding: 'messagepack' as const,
  version: 3 as const,
  compression: 'gzip' as const,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  ackTimeoutMs: 10_000,
  maxQueue: 100,
  reconnect: Object.freeze({ initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 0.5, maxAttempts: Number.POSITIVE_INFINITY })
})

/** The URL a connection opens: the route's, with what the client asks for in the query string. */
export function connectUrl (base: string, options: { encoding?: string, version?: number, compression?: string, protocol?: unknown, query?: Record<string, string> }): string {
  const params = new URLSearchParams(options.query)
  // With the protocol's schemas, the compact encoding; without, plain MessagePack.
  params.set('encoding', options.encoding ?? (options.protocol === undefined ? CLIENT_DEFAULTS.encoding : 'msgpack-compact'))
  params.set('version', String(options.version ?? CLIENT_DEFAULTS.version))
  params.set('compression', options.compression ?? CLIENT_DEFAULTS.compression)
  return `${base}${base.includes('?') ? '&' : '?'}${params.toString()}`
}

/**
 * The delay before reconnection attempt `attempt` (0 for the first), or undefined when no more
 * attempts are allowed.
 */
export function reconnectDelay (options: ReconnectOptions | false | undefined, attempt: number, random: () => number = Math.random): number | undefined {
  if (options === false) return undefined
  const r = { ...CLIENT_DEFAULTS.reconnect, ...options }
  if (attempt >= r.maxAttempts) return undefined
  const jitter = Math.min(1, Math.max(0, r.jitter))
  const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** attempt)
  return base * (1 - jitter * random())
}
