/**
 * Regression (issue 8, item 6): a topic with a lone surrogate, `ecg/x\ud800`, became
 * `ecg/x\ufffd` in Redis keys and channels: its own subscriber got nothing, and a subscriber of
 * `ecg/x\ufffd` got everything. The Redis broker refuses such topics (isWellFormedTopic), and
 * maps a channel back to a topic only when its bytes are exactly that topic's.
 */
import { test } from 'tap'
import { redisTest, redisClient, removeKeys, testPrefix } from '../redis-server.js'
import { redisBroker } from '../../lib/redis.js'
import { isWellFormedTopic, MAX_TOPIC_BYTES } from '../../lib/topics/topic-name.js'
import { topicOfChannel } from '../../lib/brokers/redis-wire.js'
import type { TopicMessage } from '../../lib/brokers/broker.js'
import { BrokerLog } from '../broker-log.js'
import { until } from '../helpers.js'

const message = (topic: string): Omit<TopicMessage, 'seq'> =>
  ({ topic, eventType: 'chat.echo', payload: { room: 'r', text: 'x' }, timestamp: Date.now(), priority: false, ack: false })

test('isWellFormedTopic: non-empty, no lone surrogate, at most MAX_TOPIC_BYTES of UTF-8', async (t) => {
  t.equal(MAX_TOPIC_BYTES, 3072, 'any 1024 UTF-16 code units fit')
  for (const topic of ['ecg/x', 'ecg/x\ufffd', 'ecg/\u{1f600}', 'a'.repeat(MAX_TOPIC_BYTES), '\u20ac'.repeat(1024), '\u{1f600}'.repeat(512)]) {
    t.ok(isWellFormedTopic(topic), `${JSON.stringify(topic.slice(0, 12))} (${topic.length} code units)`)
  }
  for (const topic of ['', 'ecg/x\ud800', 'ecg/x\udc00', '\udc00\ud800', 'a\ud83d', 'a'.repeat(MAX_TOPIC_BYTES + 1), '\u20ac'.repeat(1025)]) {
    t.notOk(isWellFormedTopic(topic), `${JSON.stringify(topic.slice(0, 12))} (${topic.length} code units)`)
  }
  t.notOk(isWellFormedTopic(42 as unknown as string), 'not a string')
})

test('a channel maps to a topic only when its bytes are exactly that topic in UTF-8', async (t) => {
  const prefix = Buffer.from('p:msg:')
  t.equal(topicOfChannel(prefix, Buffer.from('p:msg:ecg/x\ufffd')), 'ecg/x\ufffd')
  t.equal(topicOfChannel(prefix, Buffer.from('p:msg:\u{1f600}')), '\u{1f600}')
  t.equal(topicOfChannel(prefix, Buffer.concat([prefix, Buffer.from('ecg/x'), Buffer.from([0xed, 0xa0, 0x80])])), undefined, 'an encoded lone surrogate')
  t.equal(topicOfChannel(prefix, Buffer.concat([prefix, Buffer.from('ecg/x'), Buffer.from([0xff])])), undefined, 'a byte that is no UTF-8')
  t.equal(topicOfChannel(prefix, Buffer.from('q:msg:ecg')), undefined, 'another prefix')
  t.equal(topicOfChannel(prefix, prefix), undefined, 'no topic')
})

redisTest('the Redis broker refuses lone-surrogate topics, and ecg/x\\ufffd hears nothing of ecg/x\\ud800', async (t, url) => {
  const prefix = testPrefix('surrogate')
  const listening = redisBroker({ url, prefix })
  const publishing = redisBroker({ url, prefix })
  const log = new BrokerLog()
  listening.attach(log)
  const redis = redisClient(url)
  t.teardown(async () => { await listening.close(); await publishing.close(); redis.disconnect(); await removeKeys(url, prefix) })
  await listening.listen('ecg/x\ufffd')
  const lone = 'ecg/x\ud800'
  await t.rejects(publishing.publish(message(lone)), TypeError, 'publish')
  await t.rejects(listening.listen(lone), TypeError, 'listen')
  await t.rejects(listening.history(lone, 0), TypeError, 'history')
  await t.rejects(listening.currentSeq(lone), TypeError, 'currentSeq')
  await t.rejects(publishing.publish(message('')), TypeError, 'an empty topic')
  await t.rejects(publishing.publish(message('a'.repeat(MAX_TOPIC_BYTES + 1))), /1 to 3072 UTF-8 bytes/, 'a topic too long')
  t.same(await redis.keys(`${prefix}:*`), [], 'no key was written')
  // The well-formed topic with U+FFFD is a topic like any other.
  t.equal(await publishing.publish(message('ecg/x\ufffd')), 1)
  await until(() => log.seqs('ecg/x\ufffd').length === 1)
  t.same([...log.told.keys()], ['ecg/x\ufffd'], 'it heard its own topic only')
})
