/**
 * Deadlines (lib/session/deadlines.ts): many timeouts under one timer, expired in order, a
 * deleted entry never expires, a key added again starts over, an expiry that throws does not stop
 * the others.
 */
import { test } from 'tap'
import { Deadlines } from '../lib/session/deadlines.js'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

test('entries expire after their timeout, in order; deleted ones never; re-added ones start over', async (t) => {
  const deadlines = new Deadlines<string>()
  const expired: string[] = []
  deadlines.add('a', 20, () => expired.push('a'))
  deadlines.add('b', 20, () => expired.push('b'))
  deadlines.add('c', 20, () => expired.push('c'))
  deadlines.add('long', 200, () => expired.push('long'))
  deadlines.add('short', 5, () => expired.push('short'))
  t.equal(deadlines.size, 5)
  t.equal(deadlines.delete('b'), true)
  t.equal(deadlines.delete('b'), false, 'deleted once')
  await sleep(10)
  deadlines.add('c', 60, () => expired.push('c again'))
  await sleep(30)
  t.same(expired, ['short', 'a'], 'b was deleted, c was added again with a later deadline')
  await sleep(60)
  t.same(expired, ['short', 'a', 'c again'])
  t.equal(deadlines.size, 1, 'only the long one waits')
  t.equal(deadlines.delete('long'), true)
  await sleep(150)
  t.same(expired, ['short', 'a', 'c again'], 'nothing more')
})

test('an expiry that throws does not stop the others, and the timer goes on', async (t) => {
  const deadlines = new Deadlines<number>()
  const expired: number[] = []
  deadlines.add(1, 10, () => { throw new Error('boom') })
  deadlines.add(2, 10, () => expired.push(2))
  deadlines.add(3, 40, () => expired.push(3))
  await sleep(70)
  t.same(expired, [2, 3])
  t.equal(deadlines.size, 0)
})

test('thousands of entries with one timeout expire in order without a scan of the waiting ones', async (t) => {
  const deadlines = new Deadlines<number>()
  const expired: number[] = []
  for (let i = 0; i < 5000; i++) deadlines.add(i, 20 + (i % 3), () => expired.push(i))
  for (let i = 0; i < 5000; i += 2) deadlines.delete(i)
  await sleep(80)
  t.equal(expired.length, 2500, 'every odd one expired, no even one')
  t.ok(expired.every((i) => i % 2 === 1))
  t.same(expired.filter((i) => i % 3 === 1), [...expired.filter((i) => i % 3 === 1)].sort((a, b) => a - b), 'in the order added, within one timeout')
})
