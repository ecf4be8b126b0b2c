/**
 * Deadlines (lib/session/deadlines.ts): many timeouts under one timer, expired in the order they
 * were added (within one timeout), a deleted entry never expires, a key added again starts over,
 * an expiry that throws does not stop the others. The waits poll, so a loaded machine only makes
 * them slower.
 */
import { test } from 'tap'
import { Deadlines, deadlines } from '../lib/session/deadlines.js'
import { PendingTable } from '../lib/session/pending.js'
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

test('every table of the process shares one Deadlines: a settled wait leaves nothing behind, timeouts still fire per table', async (t) => {
  const before = deadlines.size
  const [one, two] = [new PendingTable<string>(), new PendingTable<string>()]
  const answered = one.wait(1, 'a', 60_000, () => new Error('late'))
  const sameId = two.wait(1, 'b', 60_000, () => new Error('late'))
  t.equal(deadlines.size, before + 2, 'one entry per wait, the same id in two tables')
  one.resolve(1, 'yes')
  two.resolve(1, 'no')
  t.same(await Promise.all([answered, sameId]), ['yes', 'no'])
  t.equal(deadlines.size, before, 'nothing left once answered')
  // The process's timer is unref'd: until() keeps the test's event loop alive meanwhile.
  let failure: Error | undefined
  two.wait(2, 'c', 20, () => new Error('timed out')).catch((err: Error) => { failure = err })
  let firstSettled = false
  one.wait(3, 'd', 20, () => new Error('first')).then(() => { firstSettled = true }, () => { firstSettled = true })
  const again = one.wait(3, 'd', 60_000, () => new Error('second'))
  await until(() => failure !== undefined)
  t.equal(failure?.message, 'timed out', 'a timeout fires for its own table')
  t.equal(one.size, 1, 'a wait again for an id replaces the earlier one, with its own timeout')
  one.resolve(3, 'done')
  t.equal(await again, 'done')
  t.equal(firstSettled, false, 'the replaced wait does not time out')
  await until(() => deadlines.size === before)
  t.equal(deadlines.size, before)
})

test('a table emptied by its answers takes new waits (its map is made again), ids reused included', async (t) => {
  const table = new PendingTable<string>()
  for (let round = 0; round < 3; round++) {
    const a = table.wait(1, 'a', 60_000, () => new Error('late'))
    const b = table.wait(2, 'b', 60_000, () => new Error('late'))
    t.equal(table.size, 2)
    t.ok(table.resolve(2, `b${round}`))
    t.ok(table.resolve(1, `a${round}`))
    t.same(await Promise.all([a, b]), [`a${round}`, `b${round}`], `round ${round}: both answered`)
    t.equal(table.size, 0)
    t.equal(table.has(1), false)
    t.equal(table.resolve(1, 'again'), false, 'an answered id is not awaited any more')
  }
})
