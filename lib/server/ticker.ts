/**
 * One interval timer per period for all connections of the process, instead of a timer each:
 * heartbeats and the sweep of incomplete chunked messages run for every connection from it, a
 * slice of connections per event-loop turn so that many connections do not stall the loop.
 */

/** Something that runs on every tick. */
type Tick = () => void

// Members run per event-loop turn; the rest run in the turns that follow.
const SLICE = 1000

interface Clock {
  timer: ReturnType<typeof setInterval>
  members: Set<Tick>
}

const clocks = new Map<number, Clock>()

/** Runs every member of `members` once, `SLICE` per turn; one removed meanwhile is skipped. */
function tickAll (members: Set<Tick>): void {
  const due = [...members]
  let next = 0
  const slice = (): void => {
    const end = Math.min(due.length, next + SLICE)
    for (; next < end; next++) {
      const member = due[next] as Tick
      if (!members.has(member)) continue
      try {
        member()
      } catch {
        // A member handles its own failures; one that does not must not stop the others.
      }
    }
    if (next < due.length) setImmediate(slice)
  }
  slice()
}

/** Runs `tick` every `periodMs` (unref'd) until the returned function is called. */
export function everyTick (periodMs: number, tick: Tick): () => void {
  let clock = clocks.get(periodMs)
  if (clock === undefined) {
    const members = new Set<Tick>()
    const timer = setInterval(() => tickAll(members), periodMs)
    timer.unref()
    clock = { timer, members }
    clocks.set(periodMs, clock)
  }
  const { members } = clock
  members.add(tick)
  return () => {
    members.delete(tick)
    if (members.size === 0 && clocks.get(periodMs)?.members === members) {
      clearInterval(clocks.get(periodMs)?.timer)
      clocks.delete(periodMs)
    }
  }
}
