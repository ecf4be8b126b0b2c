/**
 * Deadlines (lib/session/deadlines.ts): many timeouts under one timer, expired in the order they
 * were added (within one timeout), a deleted entry never expires, a key added again starts over,
 * an expiry that throws does not stop the others. The waits poll, so a loaded machine only makes
 * them slower.
 */
import { test } from 'tap'
import { Deadlines } from '../lib/session/deadlines.js'
import { until } from './helpers.js'

test('entries expire after their timeout; deleted ones never; a re-added one starts over', async (t) => {
  const deadlines = new Deadlines<string>()
  const expired: string[] = []
  deadlines.add('a', 20, () => expired.push('a'))
  deadlines.add('b', 20, () => expired.push('b'))
  deadlines.add('c', 20, () => expired.push('c'))
  deadlines.add('long', 60_000, () => expired.push('long'))
  t.equal(deadlines.size, 4)
  t.equal(deadlines.delete('b'), true)
  t.equal(deadlines.delete('b'), false, 'deleted once')
  deadlines.add('c', 600, () => expired.push('c again'))
  await until(() => expired.includes('a'))
  t.same(expired, ['a'], 'b was deleted; c was added again with a later deadline')
  await until(() => expired.includes('c again'))
  t.same(expired, ['a', 'c again'])
  t.equal(deadlines.size, 1, 'only the long one waits')
  t.equal(deadlines.delete('long'), true)
  t.equal(deadlines.size, 0)
})

test('an expiry that throws does not stop the others, and the timer goes on', async (t) => {
  const deadlines = new Deadlines<number>()
  const expired: number[] = []
  deadlines.add(1, 10, () => { throw new Error('boom') })
  deadlines.add(2, 10, () => expired.push(2))
  deadlines.add(3, 40, () => expired.push(3))
  await until(() => expired.length === 2)
  t.same(expired, [2, 3])
  t.equal(deadlines.size, 0)
})

test('thousands of entries expire, in the order added within each timeout, deleted ones never', async (t) => {
  const deadlines = new Deadlines<number>()
  const expired: number[] = []
  for (let i = 0; i < 5000; i++) deadlines.add(i, 20 + (i % 3), () => expired.push(i))
  for (let i = 0; i < 5000; i += 2) deadlines.delete(i)
  await until(() => expired.length === 2500)
  t.equal(expired.length, 2500, 'every odd one expired')
  t.ok(expired.every((i) => i % 2 === 1), 'no even one')
  for (const r of [0, 1, 2]) {
    const group = expired.filter((i) => i % 3 === r)
    t.same(group, [...group].sort((a, b) => a - b), `timeout ${20 + r} ms: in the order added`)
  }
})
