/**
 * One interval timer per period for all connections of the process, instead of a timer each:
 * heartbeats and the sweep of incomplete chunked messages run for every connection from it.
 */

/** Something that runs on every tick. */
type Tick = () => void

interface Clock {
  timer: ReturnType<typeof setInterval>
  members: Set<Tick>
}

const clocks = new Map<number, Clock>()

/** Runs `tick` every `periodMs` (unref'd) until the returned function is called. */
export function everyTick (periodMs: number, tick: Tick): () => void {
  let clock = clocks.get(periodMs)
  if (clock === undefined) {
    const members = new Set<Tick>()
    const timer = setInterval(() => {
      for (const member of members) {
        try {
          member()
        } catch {
          // A member handles its own failures; one that does not must not stop the others.
        }
      }
    }, periodMs)
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
