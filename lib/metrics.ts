/**
 * Counters per route and for the whole plugin: messages and bytes in and out per message type,
 * body bytes before and after compression, errors per code, dropped messages, request latency.
 * Read three ways: `app.wirebox.metrics()` (a snapshot object), `metricsRoute` (Prometheus text
 * written here) and `fastify-wirebox/prometheus` (prom-client collectors). The two Prometheus
 * forms take their names, labels and help from one table, METRIC_FAMILIES.
 */
import { messageTypeName } from './core/constants.js'

/** Request latency bucket bounds in ms (the Prometheus histogram's `le`, divided by 1000). */
const LATENCY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/** A metrics snapshot. */
export interface MetricsSnapshot {
  connections: number
  connectionsTotal: number
  messagesIn: Record<string, number>
  messagesOut: Record<string, number>
  /** Body bytes per message type (after decompression in, before compression out). */
  bytesIn: Record<string, number>
  bytesOut: Record<string, number>
  /** Bytes on the wire (frames as sent or received). */
  wireBytesIn: number
  wireBytesOut: number
  /** Message bodies before compression (out) and after decompression (in). */
  bodyBytesIn: number
  bodyBytesOut: number
  errors: Record<string, number>
  dropped: number
  requestLatencyMs: { count: number, sum: number, buckets: Record<string, number> }
}

/** Counters of one route (or of the plugin, as the sum of its routes). */
export class Metrics {
  connections = 0
  connectionsTotal = 0
  // Per message type (a u8): counted in arrays, not maps, on the path of every message.
  readonly messagesIn = new Float64Array(256)
  readonly messagesOut = new Float64Array(256)
  readonly bytesIn = new Float64Array(256)
  readonly bytesOut = new Float64Array(256)
  wireBytesIn = 0
  wireBytesOut = 0
  bodyBytesIn = 0
  bodyBytesOut = 0
  readonly errors = new Map<string, number>()
  dropped = 0
  latencyCount = 0
  latencySum = 0
  readonly latencyBuckets = new Array<number>(LATENCY_BUCKETS_MS.length).fill(0)
  readonly #onLatency: ((ms: number) => void) | undefined

  /** `onLatency` hears each request's handling time in ms (PluginMetrics passes it on). */
  constructor (onLatency?: (ms: number) => void) {
    this.#onLatency = onLatency
  }

  /** Counts one received message. */
  received (type: number, wireBytes: number, bodyBytes: number): void {
    const t = type & 0xff
    this.messagesIn[t] = (this.messagesIn[t] as number) + 1
    this.bytesIn[t] = (this.bytesIn[t] as number) + bodyBytes
    this.wireBytesIn += wireBytes
    this.bodyBytesIn += bodyBytes
  }

  /** Counts one sent message (all its frames). */
  sent (type: number, wireBytes: number, bodyBytes: number): void {
    const t = type & 0xff
    this.messagesOut[t] = (this.messagesOut[t] as number) + 1
    this.bytesOut[t] = (this.bytesOut[t] as number) + bodyBytes
    this.wireBytesOut += wireBytes
    this.bodyBytesOut += bodyBytes
  }

  /** Counts one error by its wire code (or catalog code for local errors). */
  error (code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1)
  }

  /** Records one request's handling time. */
  latency (ms: number): void {
    this.latencyCount++
    this.latencySum += ms
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
      if (ms <= (LATENCY_BUCKETS_MS[i] as number)) this.latencyBuckets[i] = (this.latencyBuckets[i] as number) + 1
    }
    this.#onLatency?.(ms)
  }

  /** A plain snapshot. */
  snapshot (): MetricsSnapshot {
    const byType = (values: Float64Array, counts: Float64Array): Record<string, number> =>
      Object.fromEntries(seenTypes(values, counts))
    return {
      connections: this.connections,
      connectionsTotal: this.connectionsTotal,
      messagesIn: byType(this.messagesIn, this.messagesIn),
      messagesOut: byType(this.messagesOut, this.messagesOut),
      bytesIn: byType(this.bytesIn, this.messagesIn),
      bytesOut: byType(this.bytesOut, this.messagesOut),
      wireBytesIn: this.wireBytesIn,
      wireBytesOut: this.wireBytesOut,
      bodyBytesIn: this.bodyBytesIn,
      bodyBytesOut: this.bodyBytesOut,
      errors: Object.fromEntries(this.errors),
      dropped: this.dropped,
      requestLatencyMs: {
        count: this.latencyCount,
        sum: this.latencySum,
        buckets: Object.fromEntries(LATENCY_BUCKETS_MS.map((le, i) => [String(le), this.latencyBuckets[i] as number]))
      }
    }
  }
}

/** The message types seen (at least one message in `counts`), by name, with their value in `values`. */
function seenTypes (values: Float64Array, counts: Float64Array): Array<[string, number]> {
  const seen: Array<[string, number]> = []
  for (let type = 0; type < 256; type++) {
    if ((counts[type] as number) > 0) seen.push([messageTypeName(type) ?? String(type), values[type] as number])
  }
  return seen
}

/** Sums snapshots (the plugin's global view). */
function sumSnapshots (snapshots: MetricsSnapshot[]): MetricsSnapshot {
  const total = new Metrics().snapshot()
  const add = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
  }
  for (const s of snapshots) {
    total.connections += s.connections
    total.connectionsTotal += s.connectionsTotal
    add(total.messagesIn, s.messagesIn)
    add(total.messagesOut, s.messagesOut)
    add(total.bytesIn, s.bytesIn)
    add(total.bytesOut, s.bytesOut)
    total.wireBytesIn += s.wireBytesIn
    total.wireBytesOut += s.wireBytesOut
    total.bodyBytesIn += s.bodyBytesIn
    total.bodyBytesOut += s.bodyBytesOut
    add(total.errors, s.errors)
    total.dropped += s.dropped
    total.requestLatencyMs.count += s.requestLatencyMs.count
    total.requestLatencyMs.sum += s.requestLatencyMs.sum
    add(total.requestLatencyMs.buckets, s.requestLatencyMs.buckets)
  }
  return total
}

/** One Prometheus metric family wirebox exports (a counter or a gauge), read from a route's Metrics. */
interface MetricFamily {
  /** The name after the prefix (`wirebox_` unless told otherwise). */
  readonly name: string
  readonly type: 'counter' | 'gauge'
  readonly help: string
  /** Label names: `route`, then those `samples` gives. */
  readonly labels: readonly string[]
  /** One route's samples: their labels beyond `route`, and values. */
  samples (metrics: Metrics): Array<[Record<string, string>, number]>
}

type Samples = Array<[Record<string, string>, number]>
const one = (value: number): Samples => [[{}, value]]
const byType = (values: Float64Array, counts: Float64Array): Samples =>
  seenTypes(values, counts).map(([type, n]) => [{ type }, n])

/** Every counter and gauge, for both Prometheus exporters (names per Prometheus conventions). */
export const METRIC_FAMILIES: readonly MetricFamily[] = Object.freeze([
  { name: 'open_connections', type: 'gauge', help: 'Open WebSocket connections.', labels: ['route'], samples: (m) => one(m.connections) },
  { name: 'connections_total', type: 'counter', help: 'WebSocket connections accepted.', labels: ['route'], samples: (m) => one(m.connectionsTotal) },
  { name: 'messages_received_total', type: 'counter', help: 'Messages received, by message type.', labels: ['route', 'type'], samples: (m) => byType(m.messagesIn, m.messagesIn) },
  { name: 'messages_sent_total', type: 'counter', help: 'Messages sent, by message type.', labels: ['route', 'type'], samples: (m) => byType(m.messagesOut, m.messagesOut) },
  { name: 'received_body_bytes_total', type: 'counter', help: 'Message body bytes received (after decompression), by message type.', labels: ['route', 'type'], samples: (m) => byType(m.bytesIn, m.messagesIn) },
  { name: 'sent_body_bytes_total', type: 'counter', help: 'Message body bytes sent (before compression), by message type.', labels: ['route', 'type'], samples: (m) => byType(m.bytesOut, m.messagesOut) },
  { name: 'received_bytes_total', type: 'counter', help: 'Bytes received on the wire (WebSocket message payloads).', labels: ['route'], samples: (m) => one(m.wireBytesIn) },
  { name: 'sent_bytes_total', type: 'counter', help: 'Bytes sent on the wire (WebSocket message payloads).', labels: ['route'], samples: (m) => one(m.wireBytesOut) },
  { name: 'errors_total', type: 'counter', help: 'Errors, by protocol error code (0x...) or, for errors that send none, catalog code.', labels: ['route', 'code'], samples: (m) => [...m.errors].map(([code, n]) => [{ code }, n]) },
  { name: 'dropped_messages_total', type: 'counter', help: 'Events dropped under back-pressure.', labels: ['route'], samples: (m) => one(m.dropped) }
] satisfies MetricFamily[])

/** The request latency histogram: answered requests only (an ERROR answer is not timed). */
export const REQUEST_DURATION = Object.freeze({
  name: 'request_duration_seconds',
  help: 'Time from dispatching a REQUEST to sending its RESPONSE, in seconds.',
  buckets: Object.freeze(LATENCY_BUCKETS_MS.map((ms) => ms / 1000))
})

/** The plugin's metrics: one Metrics per route, and listeners of request durations. */
export class PluginMetrics {
  /** Route path to its metrics, in declaration order. */
  readonly routes = new Map<string, Metrics>()
  readonly #durationListeners = new Set<(route: string, seconds: number) => void>()

  /** Creates and keeps the metrics of a new route. */
  add (path: string): Metrics {
    const metrics = new Metrics((ms) => {
      for (const listener of this.#durationListeners) listener(path, ms / 1000)
    })
    this.routes.set(path, metrics)
    return metrics
  }

  /** Calls `listener` with each answered request's route and duration in seconds; returns the unsubscribe. */
  onRequestDuration (listener: (route: string, seconds: number) => void): () => void {
    this.#durationListeners.add(listener)
    return () => { this.#durationListeners.delete(listener) }
  }

  /** Per-route snapshots and their sum. */
  snapshot (): { total: MetricsSnapshot, routes: Record<string, MetricsSnapshot> } {
    const routes = Object.fromEntries([...this.routes].map(([path, m]) => [path, m.snapshot()]))
    return { total: sumSnapshots(Object.values(routes)), routes }
  }

  /** Prometheus text exposition (version 0.0.4) of every route. */
  prometheus (prefix = 'wirebox_'): string {
    const lines: string[] = []
    const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    const labels = (values: Record<string, string>): string =>
      Object.entries(values).map(([k, v]) => `${k}="${label(v)}"`).join(',')
    for (const family of METRIC_FAMILIES) {
      const name = prefix + family.name
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`)
      for (const [route, m] of this.routes) {
        for (const [values, n] of family.samples(m)) lines.push(`${name}{${labels({ route, ...values })}} ${n}`)
      }
    }
    const name = prefix + REQUEST_DURATION.name
    lines.push(`# HELP ${name} ${REQUEST_DURATION.help}`, `# TYPE ${name} histogram`)
    for (const [route, m] of this.routes) {
      const r = `route="${label(route)}"`
      REQUEST_DURATION.buckets.forEach((le, i) => lines.push(`${name}_bucket{${r},le="${le}"} ${m.latencyBuckets[i] as number}`))
      lines.push(`${name}_bucket{${r},le="+Inf"} ${m.latencyCount}`, `${name}_sum{${r}} ${m.latencySum / 1000}`, `${name}_count{${r}} ${m.latencyCount}`)
    }
    return lines.join('\n') + '\n'
  }
}

/** Where the wirebox decorator keeps its PluginMetrics (for fastify-wirebox/prometheus). */
export const kMetrics = Symbol('fastify-wirebox.metrics')
