/**
 * `fastify-wirebox/prometheus`: wirebox's metrics as prom-client collectors in your registry.
 *
 *   await app.register(wirebox)
 *   await app.register(wireboxMetrics, { registry })   // then serve registry.metrics() where you like
 *
 * A separate entry, so that prom-client (an optional peer dependency) is loaded only by those who
 * import it. Counters and gauges are read from wirebox's own counters when the registry is
 * collected, so nothing is added to the path of each message; the request duration histogram is
 * observed as each request is answered. Names, labels and help are those of `metricsRoute`
 * (METRIC_FAMILIES in metrics.ts).
 */
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { Counter, Gauge, Histogram, register as globalRegistry } from 'prom-client'
import type { Registry } from 'prom-client'
import type { FastifyPluginAsync } from 'fastify'
import { assertOptions } from './core/schema-check.js'
import { errors } from './errors.js'
import { METRIC_FAMILIES, PluginMetrics, REQUEST_DURATION, kMetrics } from './metrics.js'

/** Options of the wireboxMetrics plugin. */
export interface WireboxMetricsOptions {
  /** The registry the collectors join (default: prom-client's global `register`). */
  registry?: Registry
  /** Prefix of every metric name (default 'wirebox_'). */
  prefix?: string
}

/** The options' schema: `registry` an object, `prefix` a valid start of a metric name. */
export const WireboxMetricsOptionsSchema = Type.Object({
  registry: Type.Optional(Type.Object({})),
  prefix: Type.Optional(Type.String({ pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' }))
}, { additionalProperties: false })

const plugin: FastifyPluginAsync<WireboxMetricsOptions> = async (fastify, options) => {
  assertOptions(WireboxMetricsOptionsSchema, options, 'wirebox metrics options')
  const source = (fastify.wirebox as unknown as Record<symbol, unknown>)[kMetrics]
  if (!(source instanceof PluginMetrics)) {
    throw new errors.WIREBOX_ERR_INVALID_OPTION('wirebox metrics', 'register fastify-wirebox (the same copy) before this plugin')
  }
  const registry = options.registry ?? globalRegistry
  const prefix = options.prefix ?? 'wirebox_'
  const names: string[] = []

  for (const family of METRIC_FAMILIES) {
    const name = prefix + family.name
    const common = { name, help: family.help, labelNames: family.labels, registers: [registry] }
    const each = (write: (labels: Record<string, string>, value: number) => void): void => {
      for (const [route, metrics] of source.routes) {
        for (const [labels, value] of family.samples(metrics)) write({ route, ...labels }, value)
      }
    }
    if (family.type === 'gauge') {
      // eslint-disable-next-line no-new -- the registry holds it
      new Gauge({ ...common, collect () { each((labels, value) => this.set(labels, value)) } })
    } else {
      // eslint-disable-next-line no-new -- the registry holds it
      new Counter({
        ...common,
        // wirebox keeps the totals: set the counter to them (prom-client counters only go up).
        collect () {
          this.reset()
          each((labels, value) => this.inc(labels, value))
        }
      })
    }
    names.push(name)
  }

  const durationName = prefix + REQUEST_DURATION.name
  const timed = new Set<string>()
  const histogram = new Histogram({
    name: durationName,
    help: REQUEST_DURATION.help,
    labelNames: ['route'],
    buckets: [...REQUEST_DURATION.buckets],
    registers: [registry],
    // Routes with no answered request yet show as zeros rather than not at all.
    collect () {
      for (const route of source.routes.keys()) {
        if (!timed.has(route)) {
          timed.add(route)
          this.zero({ route })
        }
      }
    }
  })
  names.push(durationName)
  const stop = source.onRequestDuration((route, seconds) => {
    timed.add(route)
    histogram.observe({ route }, seconds)
  })

  fastify.addHook('onClose', async () => {
    stop()
    for (const name of names) registry.removeSingleMetric(name)
  })
}

/** The plugin: registers wirebox's collectors in a prom-client registry; removes them on close. */
export const wireboxMetrics = fp(plugin, { name: 'fastify-wirebox-prometheus', fastify: '5.x', dependencies: ['fastify-wirebox'] })
export default wireboxMetrics
