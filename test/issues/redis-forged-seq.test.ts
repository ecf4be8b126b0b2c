/**
 * Regression (issue 8, item 5): Redis is untrusted input. A forged pub/sub message
 * `99999999999999:x` was dropped as malformed, but its seq was still taken as seen; the publish
 * script then wrote the next seq as `1e+14`, XADD refused it, and every later publish of the topic
 * failed. Now a seq is read strictly, only Redis's counter and stream may move it ahead, the
 * script writes integers, and a stored message is checked field by field; a malformed one that
 * leaves a hole in the seqs is reported as a gap.
 */
import { Redis } from 'ioredis'
import { redisTest, redisClient, removeKeys, testPrefix } from '../redis-server.js'
import { redisBroker } from '../../lib/redis.js'
import type { Broker, TopicMessage } from '../../lib/brokers/broker.js'
import { BrokerLog, handPublish, wireBytes } from '../broker-log.js'
import { until } from '../helpers.js'
import type { Test } from 'tap'

const message = (topic: string, text = 'x'): Omit<TopicMessage, 'seq'> =>
  ({ topic, eventType: 'chat.echo', payload: { room: 'r', text }, timestamp: Date.now(), priority: false, ack: false })

/** A listening broker with its log and errors, a plain client, and cleanup. */
async function setUp (t: Test, url: string, topic: string): Promise<{ broker: Broker, log: BrokerLog, errors: Error[], redis: Redis, prefix: string }> {
  const prefix = testPrefix('forged')
  const errors: Error[] = []
  const broker = redisBroker({ url, prefix, onError: (err) => errors.push(err) })
  const log = new BrokerLog()
  broker.attach(log)
  const redis = redisClient(url)
  t.teardown(async () => { await broker.close(); redis.disconnect(); await removeKeys(url, prefix) })
  await broker.listen(topic)
  return { broker, log, errors, redis, prefix }
}

redisTest('a forged "99999999999999:x" on the channel is dropped and counted, and the topic goes on', async (t, url) => {
  const { broker, log, errors, redis, prefix } = await setUp(t, url, 'vitals')
  t.equal(await broker.publish(message('vitals')), 1)
  await until(() => log.seqs('vitals').length === 1)
  await redis.publish(`${prefix}:msg:vitals`, '99999999999999:x')
  await until(() => broker.stats().malformed === 1)
  t.match(errors.at(-1)?.message, /malformed message on vitals dropped/, 'reported through onError')
  t.equal(await broker.publish(message('vitals')), 2, 'the next publish gets the next seq')
  t.equal(await redis.get(`${prefix}:seq:vitals`), '2', 'the counter in Redis is a plain integer')
  await until(() => log.seqs('vitals').length === 2)
  t.same(log.seqs('vitals'), [1, 2], 'delivered in order')
  t.same(log.gaps('vitals'), [], 'no gap: nothing was lost')
  const restarted = redisBroker({ url, prefix })
  t.equal(await restarted.publish(message('vitals')), 3, 'another instance carries on too')
  await restarted.close()
})

redisTest('a well-formed message whose seq Redis does not have is dropped: it moves no seq', async (t, url) => {
  const { broker, log, redis, prefix } = await setUp(t, url, 'ward')
  t.equal(await broker.publish(message('ward')), 1)
  await redis.publish(`${prefix}:msg:ward`, Buffer.concat([Buffer.from('5000:'), wireBytes()]))
  await until(() => broker.stats().malformed === 1)
  t.equal(await broker.publish(message('ward')), 2, 'the forged seq is no floor')
  await until(() => log.seqs('ward').includes(2))
  t.same(log.seqs('ward'), [1, 2], 'the forged message was not delivered')
  t.same(log.gaps('ward'), [])
})

redisTest('seqs that are not plain decimal integers are refused', async (t, url) => {
  const { broker, log, redis, prefix } = await setUp(t, url, 'strict')
  const bad = ['0', '01', '+1', '-1', '1e3', ' 1', '1.0', '0x1', '9007199254740992', '12345678901234567']
  for (const seq of bad) await redis.publish(`${prefix}:msg:strict`, Buffer.concat([Buffer.from(`${seq}:`), wireBytes()]))
  await until(() => broker.stats().malformed === bad.length)
  t.equal(await broker.publish(message('strict')), 1)
  await until(() => log.seqs('strict').length === 1)
  t.same(log.seqs('strict'), [1], 'none of them was taken for a seq')
})

redisTest('the publish script writes large seqs as integers and stops at 2^53 - 1', async (t, url) => {
  const { broker, redis, prefix } = await setUp(t, url, 'big')
  await redis.set(`${prefix}:seq:big`, '99999999999999')
  t.equal(await broker.publish(message('big')), 100_000_000_000_000)
  t.equal(await redis.get(`${prefix}:seq:big`), '100000000000000')
  t.same((await redis.xrevrange(`${prefix}:stream:big`, '+', '-', 'COUNT', 1)).map(([id]) => id), ['100000000000000-0'], 'the stream id is an integer')
  await redis.set(`${prefix}:seq:big`, String(Number.MAX_SAFE_INTEGER - 1))
  t.equal(await broker.publish(message('big')), Number.MAX_SAFE_INTEGER)
  t.equal(await redis.get(`${prefix}:seq:big`), '9007199254740991')
  await t.rejects(broker.publish(message('big')), /2\^53 - 1/, 'no seq beyond 2^53 - 1')
})

redisTest('stored messages with malformed fields are dropped and counted, each hole reported as a gap at once', async (t, url) => {
  const { broker, log, errors, redis, prefix } = await setUp(t, url, 'fields')
  t.equal(await broker.publish(message('fields')), 1)
  const malformed: Array<Record<string, unknown> | Buffer> = [
    { t: 1.5 }, { t: -1 }, { t: '1700000000000' }, { e: '' }, { e: 7 }, { r: 'yes' }, { a: 1 }, { a: undefined },
    Buffer.from([0x93, 0x01, 0x02, 0x03]), Buffer.from([0xc1])
  ]
  let seq = 1
  for (const fields of malformed) {
    seq++
    await handPublish(redis, prefix, 'fields', seq, Buffer.isBuffer(fields) ? fields : wireBytes(fields))
    await until(() => log.covered('fields').includes(seq))
  }
  t.same(log.seqs('fields'), [1], 'none was delivered')
  t.same(log.gaps('fields'), Array.from({ length: malformed.length }, (_, i) => [i + 2, i + 2]), 'each reported as lost when it came')
  t.equal(broker.stats().malformed, malformed.length, 'each counted once')
  t.equal(errors.length, malformed.length, 'each reported through onError')
  t.equal(await broker.publish(message('fields')), malformed.length + 2)
  await until(() => log.seqs('fields').length === 2)
  t.same(log.covered('fields'), Array.from({ length: malformed.length + 2 }, (_, i) => i + 1), 'every seq told once, in order')
})
