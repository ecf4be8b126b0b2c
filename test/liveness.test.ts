/**
 * The heartbeat rule (PROTOCOL.md section 1, "Heartbeat"): a message raises a flag, each check
 * takes it as a sign of life at the check's time; a peer is silent after two intervals without
 * one, never earlier.
 */
import { test } from 'tap'
import { Liveness } from '../lib/session/liveness.js'

test('silence is found two intervals after the last check that saw a sign of life, never earlier', async (t) => {
  const start = Date.now()
  const liveness = new Liveness()
  t.equal(liveness.silent(100, start + 200), false, 'two intervals after creation: not yet')
  t.equal(liveness.silent(100, start + 10_000), true, 'long after, with nothing heard: silent')
  liveness.seen()
  t.equal(liveness.silent(100, start + 20_000), false, 'a sign of life since the last check: alive, whatever the clock says')
  t.equal(liveness.silent(100, start + 20_200), false, 'two intervals after that check: not yet')
  t.equal(liveness.silent(100, start + 20_201), true, 'beyond two intervals: silent')
  t.equal(liveness.silent(0, start + 99_999), false, 'never with an interval of 0')
})

test('the clock wraps after 24.8 days without a peer seen alive being taken for silent, or the reverse', async (t) => {
  const liveness = new Liveness()
  const wrap = Date.now() + 2 ** 31 // past the module's load by more than 2^31 ms: its 32-bit clock wrapped
  let wrong = 0
  for (let at = wrap - 20_000; at < wrap + 20_000; at += 97) {
    liveness.seen()
    if (liveness.silent(100, at)) wrong++ // heard since the last check
    if (liveness.silent(100, at + 200)) wrong++ // two intervals: not yet
    if (!liveness.silent(100, at + 201)) wrong++ // beyond: silent
  }
  t.equal(wrong, 0, 'every check across the wrap answers as anywhere else')
})
