/**
 * One timer for every connection's ticks (lib/server/ticker.ts): every member runs once per
 * period (a thousand per event-loop turn), a stopped member no more, a throwing one stops no other.
 */
import { test } from 'tap'
import { everyTick } from '../lib/server/ticker.js'

test('2,500 members tick once per period; a stopped one does not; a throwing one stops no other', async (t) => {
  const counts = new Array<number>(2500).fill(0)
  const stops = counts.map((_, i) => everyTick(40, () => {
    if (i === 7) throw new Error('a member that throws')
    counts[i] = (counts[i] as number) + 1
  }))
  ;(stops[3] as () => void)()
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (const stop of stops) stop()
  t.equal(counts[3], 0, 'the stopped member never ran')
  t.equal(counts[7], 0, 'the throwing member counted nothing')
  const ran = counts.filter((n, i) => i !== 3 && i !== 7)
  t.ok(ran.every((n) => n >= 1 && n <= 3), `every other member ran once per period (${Math.min(...ran)}-${Math.max(...ran)} times in 100 ms at 40 ms)`)
  const after = [...counts]
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.same(counts, after, 'nothing runs once every member stopped')
})
