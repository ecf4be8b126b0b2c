/**
 * The ECG monitor example: `npm start`. Listens on HOST (default 127.0.0.1) and PORT (default
 * 3000), WebSocket route /ws. Request `ecg.history` and `ecg.annotate`; SUBSCRIBE to
 * `ecg/<patient_id>` for `ecg.data` at least ten times a second and PRIORITY `anomaly.alert`
 * events; send `anomaly.seen` once an alert was seen. Prometheus metrics (a prom-client registry) at /metrics; the live ECG page at /. With REDIS_URL set, topics go
 * through Redis, so several instances (PORT=3001 npm start, PORT=3002 npm start) share them.
 */
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import wirebox from '../lib/index.js'
import wireboxMetrics from '../lib/prometheus.js'
import { protocol } from './protocol.js'
import { SAMPLING_RATE, samples } from './ecg.js'
import { registerPage } from './page.js'

const BATCH = 25 // samples per ecg.data event: 250 Hz in 10 batches a second
const TOPIC = /^ecg\/([^/]{1,64})$/

/** Options of the example server. */
export interface EcgServerOptions {
  /** Fastify logger (default: true). */
  logger?: boolean
  /** Milliseconds between ecg.data batches (default 95: at least 10 a second). */
  batchIntervalMs?: number
  /** One batch in this many carries an anomaly.alert (default 50). */
  alertEvery?: number
  /** Share topics with other instances through this Redis (default: REDIS_URL; unset: in memory). */
  redisUrl?: string
  /** Key prefix in Redis (default 'wirebox-ecg'). */
  redisPrefix?: string
  /** Patient streams running at once; subscribing to one more patient is refused (default 100). */
  maxStreams?: number
}

/** Builds the example server (not listening). */
export async function buildServer (options: EcgServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? true })
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL
  // ioredis is loaded only when the example uses Redis.
  const broker = redisUrl === undefined || redisUrl === ''
    ? undefined
    : (await import('../lib/redis.js')).redisBroker({ url: redisUrl, prefix: options.redisPrefix ?? 'wirebox-ecg', onError: (err) => app.log.warn({ err }, 'redis broker') })
  await app.register(wirebox, broker === undefined ? {} : { broker })
  // wirebox's collectors join the application's registry (add collectDefaultMetrics and your own).
  const registry = new Registry()
  await app.register(wireboxMetrics, { registry })
  app.get('/metrics', async (_request, reply) => await reply.type(registry.contentType).send(await registry.metrics()))
  await registerPage(app)

  const started = Date.now()
  const streams = new Map<string, ReturnType<typeof setInterval>>()
  const interval = options.batchIntervalMs ?? 95
  const alertEvery = options.alertEvery ?? 50
  // Typed by the protocol: only its serverToClient events, with their payloads.
  const ecg = app.wirebox.publisher(protocol)

  // One stream per patient while it has subscribers: batch k holds samples 25k to 25k + 24.
  const maxStreams = options.maxStreams ?? 100
  // Returns whether the patient's stream runs (at most maxStreams: clients choose patient ids).
  const startStream = (patientId: string): boolean => {
    if (streams.has(patientId)) return true
    if (streams.size >= maxStreams) return false
    const topic = `ecg/${patientId}`
    let seq = 0
    const timer = setInterval(() => {
      if (app.wirebox.subscriberCount(topic) === 0) {
        clearInterval(timer)
        streams.delete(patientId)
        return
      }
      seq++
      ecg.publish(topic, 'ecg.data', { patient_id: patientId, seq, sampling_rate: SAMPLING_RATE, signal: samples(patientId, seq * BATCH, BATCH) })
        .catch((err: unknown) => app.log.error({ err }, 'ecg.data publish failed'))
      if (seq % alertEvery === 0) {
        ecg.publish(topic, 'anomaly.alert', { patient_id: patientId, kind: 'irregular rhythm', severity: 'medium', seq }, { priority: true })
          .catch((err: unknown) => app.log.error({ err }, 'anomaly.alert publish failed'))
      }
    }, interval)
    timer.unref()
    streams.set(patientId, timer)
    return true
  }
  app.addHook('onClose', async () => {
    for (const timer of streams.values()) clearInterval(timer)
  })

  app.wirebox('/ws', {
    protocol,
    // Only patient topics exist; subscribing starts that patient's stream.
    authorizeSubscribe: (topic) => {
      const match = TOPIC.exec(topic)
      return match !== null && startStream(match[1] as string)
    },
    // Declared once for the route: every connection shares them.
    handle: {
      'ecg.history': ({ patient_id, samples: count }) => {
        const now = Math.floor(((Date.now() - started) / 1000) * SAMPLING_RATE)
        return { patient_id, sampling_rate: SAMPLING_RATE, signal: samples(patient_id, Math.max(now, count), count) }
      },
      'ecg.annotate': async ({ patient_id, note }) => {
        await ecg.publish(`ecg/${patient_id}`, 'ecg.annotation', { patient_id, note })
        return { ok: true as const }
      }
    },
    on: {
      'anomaly.seen': ({ patient_id, seq }, { connection }) => {
        app.log.info({ patient_id, seq, session: connection.id }, 'anomaly alert seen')
      }
    }
  })
  return app
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const app = await buildServer()
  await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
}
