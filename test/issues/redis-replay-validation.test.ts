/**
 * Regression (issue 8, item 13): history and gap filling replayed stream entries with a weaker
 * check than live messages (a timestamp of 1.5 went through), a hole left by a dropped entry was
 * replayed as if complete, and when Redis failed during gap filling the subscribers were told
 * nothing. Now every entry goes through the same checks, history replays only a run without a
 * hole, and what cannot be filled is reported as a gap.
 */
import { redisTest, redisClient, removeKeys, testPrefix } from '../redis-server.js'
import { redisBroker } from '../../lib/redis.js'
import type { Broker, TopicMessage } from '../../lib/brokers/broker.js'
import { BrokerLog, handPublish, wireBytes } from '../broker-log.js'
import { until } from '../helpers.js'
import type { Test } from 'tap'
import type { Redis } from 'ioredis'

const message = (topic: string): Omit<TopicMessage, 'seq'> =>
  ({ topic, eventType: 'chat.echo', payload: { room: 'r', text: 'x' }, timestamp: Date.now(), priority: false, ack: false })

async function setUp (t: Test, url: string): Promise<{ broker: Broker, log: BrokerLog, errors: Error[], redis: Redis, prefix: string }> {
  const prefix = testPrefix('replay')
  const errors: Error[] = []
  const broker = redisBroker({ url, prefix, onError: (err) => errors.push(err) })
  const log = new BrokerLog()
  broker.attach(log)
  const redis = redisClient(url)
  t.teardown(async () => { await broker.close(); redis.disconnect(); await removeKeys(url, prefix) })
  return { broker, log, errors, redis, prefix }
}

redisTest('history checks every entry, and replays only what follows the last hole', async (t, url) => {
  const { broker, redis, prefix } = await setUp(t, url)
  await broker.publish(message('h'))
  await broker.publish(message('h'))
  await handPublish(redis, prefix, 'h', 3, wireBytes({ t: 1.5 }), { publish: false })
  await broker.publish(message('h'))
  await broker.publish(message('h'))
  const full = await broker.history('h', 0)
  t.same(full.messages.map((m) => m.seq), [4, 5], 'not 1, 2, 4, 5: entry 3 is malformed')
  t.match(full, { currentSeq: 5, firstSeq: 4, complete: false }, 'so not recovered')
  t.equal(broker.stats().malformed, 1, 'the malformed entry is counted')
  t.match(await broker.history('h', 2), { firstSeq: 4, complete: false })
  const after = await broker.history('h', 3)
  t.same(after.messages.map((m) => m.seq), [4, 5])
  t.equal(after.complete, true, 'after the hole, history is complete')
  await handPublish(redis, prefix, 'h', 6, Buffer.from([0xc1]), { publish: false })
  t.match(await broker.history('h', 4), { messages: [], currentSeq: 6, firstSeq: 7, complete: false }, 'a malformed newest entry: nothing replayable up to the current seq')
})

redisTest('gap filling checks every entry: a malformed one is reported as a gap, not delivered', async (t, url) => {
  const { broker, log, redis, prefix } = await setUp(t, url)
  await broker.listen('g')
  await broker.publish(message('g'))
  await until(() => log.seqs('g').length === 1)
  // Entries 2 to 4 reach the stream but not pub/sub; 5 comes through pub/sub.
  await handPublish(redis, prefix, 'g', 2, wireBytes(), { publish: false })
  await handPublish(redis, prefix, 'g', 3, wireBytes({ t: 1.5 }), { publish: false })
  await handPublish(redis, prefix, 'g', 4, wireBytes(), { publish: false })
  await handPublish(redis, prefix, 'g', 5, wireBytes())
  await until(() => log.covered('g').includes(5))
  t.same(log.seqs('g'), [1, 2, 4, 5], 'entry 3 was not replayed')
  t.same(log.gaps('g'), [[3, 3]], 'it was reported lost')
  t.equal(broker.stats().malformed, 1)
  t.equal(broker.stats().replayed, 2, 'replayed from the stream: 2 and 4')
})

redisTest('Redis failing during gap filling: the subscribers are told what was lost, and the next message fills or reports the rest', async (t, url) => {
  const { broker, log, errors, redis, prefix } = await setUp(t, url)
  await broker.listen('f')
  await broker.publish(message('f'))
  await until(() => log.seqs('f').length === 1)
  // XRANGE fails (the stream key holds a string), and a message comes with a jump.
  await redis.set(`${prefix}:stream:f`, 'not a stream')
  await handPublish(redis, prefix, 'f', 4, wireBytes(), { stream: false })
  await until(() => log.covered('f').includes(4))
  t.same(log.gaps('f'), [[2, 3]], 'what could not be filled is reported')
  t.same(log.seqs('f'), [1, 4], 'the message itself is delivered')
  t.match(errors.map((e) => e.message), [/WRONGTYPE/], 'the failure is reported through onError')
  // An unreadable message while Redis still fails: nothing can be said yet...
  await handPublish(redis, prefix, 'f', 6, Buffer.from('garbage'), { stream: false })
  await until(() => broker.stats().malformed === 1)
  t.same(log.covered('f'), [1, 2, 3, 4], 'nothing is delivered or reported beyond what is known')
  // ...and once Redis works again the next message fills or reports the rest.
  await redis.del(`${prefix}:stream:f`)
  t.equal(await broker.publish(message('f')), 7)
  await until(() => log.covered('f').includes(7))
  t.same(log.covered('f'), [1, 2, 3, 4, 5, 6, 7], 'every seq told once, in order')
  t.same(log.gaps('f'), [[2, 3], [5, 6]])
})
