/**
 * One timer for every connection's ticks (lib/session/ticker.ts): every member runs once per
 * period (a thousand per event-loop turn), a stopped member no more, a throwing one stops no other.
 * The waits poll, so a loaded machine only makes them slower.
 */
import { test } from 'tap'
import { everyTick, stopTicking } from '../lib/session/ticker.js'
import { until } from './helpers.js'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

test('2,500 members all tick; a stopped one does not; a throwing one stops no other; nothing runs once all stopped', async (t) => {
  const counts = new Array<number>(2500).fill(0)
  const members = counts.map((_, i) => ({
    tick (): void {
      if (i === 7) throw new Error('a member that throws')
      counts[i] = (counts[i] as number) + 1
    }
  }))
  for (const member of members) everyTick(40, member)
  stopTicking(40, members[3] as { tick: () => void })
  const others = (): number[] => counts.filter((_, i) => i !== 3 && i !== 7)
  await until(() => others().every((n) => n >= 2)).catch(() => {})
  t.ok(others().every((n) => n >= 2), 'every other member ran, period after period')
  t.equal(counts[3], 0, 'the stopped member never ran')
  t.equal(counts[7], 0, 'the throwing member counted nothing')
  for (const member of members) stopTicking(40, member)
  const after = [...counts]
  await sleep(120)
  t.same(counts, after, 'nothing runs once every member stopped')
})
