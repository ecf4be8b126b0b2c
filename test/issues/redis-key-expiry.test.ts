/**
 * Regression (issue 8, item 10): the Redis broker's keys never expired (one client made 9,260
 * keys, 49 MB, in 9 s). Now every publish renews its topic's counter and stream for the history
 * TTL (at least MIN_KEY_TTL_MS), so an idle topic leaves Redis; the counter of a topic that an
 * instance listens to is kept by that instance, so seq never goes back for live subscribers.
 */
import { redisTest, redisClient, removeKeys, testPrefix } from '../redis-server.js'
import { redisBroker, MIN_KEY_TTL_MS } from '../../lib/redis.js'
import type { Broker, TopicMessage } from '../../lib/brokers/broker.js'
import type { RedisBrokerOptions } from '../../lib/redis.js'
import { BrokerLog } from '../broker-log.js'
import { until } from '../helpers.js'
import type { Test } from 'tap'
import type { Redis } from 'ioredis'

const message = (topic: string): Omit<TopicMessage, 'seq'> =>
  ({ topic, eventType: 'chat.echo', payload: { room: 'r', text: 'x' }, timestamp: Date.now(), priority: false, ack: false })
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function setUp (t: Test, url: string): Promise<{ redis: Redis, prefix: string, broker: (options?: RedisBrokerOptions) => Broker }> {
  const prefix = testPrefix('expiry')
  const redis = redisClient(url)
  const brokers: Broker[] = []
  t.teardown(async () => { for (const b of brokers) await b.close(); redis.disconnect(); await removeKeys(url, prefix) })
  return {
    redis,
    prefix,
    broker: (options = {}) => {
      const b = redisBroker({ url, prefix, ...options })
      brokers.push(b)
      return b
    }
  }
}

redisTest('every key a publish writes expires after the history TTL, renewed by each publish', async (t, url) => {
  const { redis, prefix, broker } = await setUp(t, url)
  const b = broker({ historyTtlMs: 1500 })
  const keys = [`${prefix}:seq:idle`, `${prefix}:stream:idle`]
  await b.publish(message('idle'))
  for (const key of keys) {
    const ttl = await redis.pttl(key)
    t.ok(ttl > 0 && ttl <= 1500, `${key}: PTTL ${ttl} ms`)
  }
  await sleep(500)
  const before = await Promise.all(keys.map(async (key) => await redis.pttl(key)))
  await b.publish(message('idle'))
  for (const [i, key] of keys.entries()) {
    const ttl = await redis.pttl(key)
    t.ok(ttl > (before[i] as number), `${key}: renewed by the next publish (${before[i]} -> ${ttl} ms)`)
  }
  const gone = Date.now()
  while (await redis.exists(...keys) > 0 && Date.now() - gone < 4000) await sleep(50)
  t.equal(await redis.exists(...keys), 0, 'both keys are gone once the topic is idle')
  t.match(await b.history('idle', 2), { currentSeq: 2, complete: true, messages: [] }, 'this instance still knows seq 2')
  const other = broker({ historyTtlMs: 1500 })
  t.match(await other.history('idle', 2), { currentSeq: 0, complete: false }, 'elsewhere the topic starts again: a resuming client is not told it recovered')
})

redisTest(`keys live at least MIN_KEY_TTL_MS (${MIN_KEY_TTL_MS} ms), whatever the history TTL`, async (t, url) => {
  const { redis, prefix, broker } = await setUp(t, url)
  await broker({ historyTtlMs: 10 }).publish(message('short'))
  for (const key of [`${prefix}:seq:short`, `${prefix}:stream:short`]) {
    const ttl = await redis.pttl(key)
    t.ok(ttl > 10 && ttl <= MIN_KEY_TTL_MS, `${key}: PTTL ${ttl} ms, not 10`)
  }
})

redisTest('a topic an instance listens to keeps its counter: after the history expired, seq goes on for live subscribers', async (t, url) => {
  const { redis, prefix, broker } = await setUp(t, url)
  const ttlMs = 1500
  const listening = broker({ historyTtlMs: ttlMs })
  const log = new BrokerLog()
  listening.attach(log)
  await listening.listen('live')
  for (let i = 0; i < 3; i++) await listening.publish(message('live'))
  await sleep(ttlMs * 2)
  t.equal(await redis.exists(`${prefix}:stream:live`), 0, 'the history expired')
  t.equal(await redis.get(`${prefix}:seq:live`), '3', 'the counter is kept')
  t.ok(await redis.pttl(`${prefix}:seq:live`) > 0, 'with a TTL still')
  t.equal(await broker({ historyTtlMs: ttlMs }).publish(message('live')), 4, 'an instance that never saw the topic goes on from it')
  await until(() => log.seqs('live').length === 4)
  t.same(log.seqs('live'), [1, 2, 3, 4], 'the live subscriber got it')
  t.same(log.gaps('live'), [])
})

redisTest('a counter lost while an instance listens (expired, Redis restarted) is put back by that instance', async (t, url) => {
  const { redis, prefix, broker } = await setUp(t, url)
  const listening = broker({ historyTtlMs: MIN_KEY_TTL_MS })
  const log = new BrokerLog()
  listening.attach(log)
  await listening.listen('lost')
  for (let i = 0; i < 3; i++) await listening.publish(message('lost'))
  await redis.del(`${prefix}:seq:lost`, `${prefix}:stream:lost`)
  const end = Date.now() + MIN_KEY_TTL_MS * 2
  while (await redis.get(`${prefix}:seq:lost`) === null && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(await redis.get(`${prefix}:seq:lost`), '3', 'put back within a third of the key TTL')
  t.equal(await broker().publish(message('lost')), 4)
  await until(() => log.seqs('lost').length === 4)
  t.same(log.seqs('lost'), [1, 2, 3, 4])
})
