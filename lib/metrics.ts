/**
 * Counters per route and for the whole plugin: messages and bytes in and out per message type,
 * body bytes before and after compression, errors per code, dropped messages, request latency;
 * a snapshot as an object and as Prometheus text.
 */
import { messageTypeName } from './core/constants.js'

/** Request latency bucket bounds in ms (Prometheus `le`). */
export const LATENCY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

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
  readonly messagesIn = new Map<number, number>()
  readonly messagesOut = new Map<number, number>()
  readonly bytesIn = new Map<number, number>()
  readonly bytesOut = new Map<number, number>()
  wireBytesIn = 0
  wireBytesOut = 0
  bodyBytesIn = 0
  bodyBytesOut = 0
  readonly errors = new Map<string, number>()
  dropped = 0
  latencyCount = 0
  latencySum = 0
  readonly latencyBuckets = new Array<number>(LATENCY_BUCKETS_MS.length).fill(0)

  /** Counts one received message. */
  received (type: number, wireBytes: number, bodyBytes: number): void {
    this.messagesIn.set(type, (this.messagesIn.get(type) ?? 0) + 1)
    this.bytesIn.set(type, (this.bytesIn.get(type) ?? 0) + bodyBytes)
    this.wireBytesIn += wireBytes
    this.bodyBytesIn += bodyBytes
  }

  /** Counts one sent message (all its frames). */
  sent (type: number, wireBytes: number, bodyBytes: number): void {
    this.messagesOut.set(type, (this.messagesOut.get(type) ?? 0) + 1)
    this.bytesOut.set(type, (this.bytesOut.get(type) ?? 0) + bodyBytes)
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
  }

  /** A plain snapshot. */
  snapshot (): MetricsSnapshot {
    const byType = (map: Map<number, number>): Record<string, number> =>
      Object.fromEntries([...map].map(([type, n]) => [messageTypeName(type) ?? String(type), n]))
    return {
      connections: this.connections,
      connectionsTotal: this.connectionsTotal,
      messagesIn: byType(this.messagesIn),
      messagesOut: byType(this.messagesOut),
      bytesIn: byType(this.bytesIn),
      bytesOut: byType(this.bytesOut),
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

/** Sums snapshots (the plugin's global view). */
export function sumSnapshots (snapshots: MetricsSnapshot[]): MetricsSnapshot {
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

/** Prometheus text exposition (version 0.0.4) of per-route snapshots. */
export function toPrometheus (routes: Record<string, MetricsSnapshot>): string {
  const lines: string[] = []
  const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
  const metric = (name: string, type: string, help: string, rows: Array<[Record<string, string>, number]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of rows) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')
      lines.push(`${name}{${text}} ${value}`)
    }
  }
  const entries = Object.entries(routes)
  metric('wirebox_connections', 'gauge', 'Open connections.', entries.map(([route, s]) => [{ route }, s.connections]))
  metric('wirebox_connections_total', 'counter', 'Connections accepted.', entries.map(([route, s]) => [{ route }, s.connectionsTotal]))
  metric('wirebox_messages_total', 'counter', 'Messages by direction and type.', entries.flatMap(([route, s]) => [
    ...Object.entries(s.messagesIn).map(([type, n]): [Record<string, string>, number] => [{ route, direction: 'in', type }, n]),
    ...Object.entries(s.messagesOut).map(([type, n]): [Record<string, string>, number] => [{ route, direction: 'out', type }, n])
  ]))
  metric('wirebox_message_bytes_total', 'counter', 'Body bytes by direction and type (after decompression in, before compression out).', entries.flatMap(([route, s]) => [
    ...Object.entries(s.bytesIn).map(([type, n]): [Record<string, string>, number] => [{ route, direction: 'in', type }, n]),
    ...Object.entries(s.bytesOut).map(([type, n]): [Record<string, string>, number] => [{ route, direction: 'out', type }, n])
  ]))
  metric('wirebox_wire_bytes_total', 'counter', 'Bytes on the wire by direction.', entries.flatMap(([route, s]) => [
    [{ route, direction: 'in' }, s.wireBytesIn], [{ route, direction: 'out' }, s.wireBytesOut]
  ] as Array<[Record<string, string>, number]>))
  metric('wirebox_body_bytes_total', 'counter', 'Message bodies before compression (out) and after decompression (in).', entries.flatMap(([route, s]) => [
    [{ route, direction: 'in' }, s.bodyBytesIn], [{ route, direction: 'out' }, s.bodyBytesOut]
  ] as Array<[Record<string, string>, number]>))
  metric('wirebox_errors_total', 'counter', 'Errors by code.', entries.flatMap(([route, s]) =>
    Object.entries(s.errors).map(([code, n]): [Record<string, string>, number] => [{ route, code }, n])))
  metric('wirebox_dropped_total', 'counter', 'Non-priority messages dropped under back-pressure.', entries.map(([route, s]) => [{ route }, s.dropped]))
  lines.push('# HELP wirebox_request_duration_ms Request handling time.', '# TYPE wirebox_request_duration_ms histogram')
  for (const [path, s] of entries) {
    const route = label(path)
    for (const [le, n] of Object.entries(s.requestLatencyMs.buckets)) lines.push(`wirebox_request_duration_ms_bucket{route="${route}",le="${le}"} ${n}`)
    lines.push(`wirebox_request_duration_ms_bucket{route="${route}",le="+Inf"} ${s.requestLatencyMs.count}`)
    lines.push(`wirebox_request_duration_ms_sum{route="${route}"} ${s.requestLatencyMs.sum}`)
    lines.push(`wirebox_request_duration_ms_count{route="${route}"} ${s.requestLatencyMs.count}`)
  }
  return lines.join('\n') + '\n'
}
