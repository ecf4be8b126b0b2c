/**
 * One interval timer per period for all connections of the process, instead of a timer each:
 * heartbeats and the sweep of incomplete chunked messages run for every connection from it, a
 * slice of connections per event-loop turn so that many connections do not stall the loop.
 * Members are objects with a `tick()` method, so that a connection needs no closure to join.
 * Both ends use it (no Node API: in a browser the next slice waits for a timeout of 0).
 */

/** Something that runs on every tick. */
export interface Ticking {
  tick (): void
}

// Members run per event-loop turn; the rest run in the turns that follow.
const SLICE = 1000

interface Clock {
  timer: ReturnType<typeof setInterval>
  members: Set<Ticking>
}

const clocks = new Map<number, Clock>()

// The turn after this one: setImmediate where there is one (Node), else a timeout of 0.
const nextTurn: (fn: () => void) => void = typeof setImmediate === 'function' ? setImmediate : (fn) => { setTimeout(fn, 0) }

/** Runs every member of `members` once, `SLICE` per turn; one removed meanwhile is skipped. */
function tickAll (members: Set<Ticking>): void {
  const due = [...members]
  let next = 0
  const slice = (): void => {
    const end = Math.min(due.length, next + SLICE)
    for (; next < end; next++) {
      const member = due[next] as Ticking
      if (!members.has(member)) continue
      try {
        member.tick()
      } catch {
        // A member handles its own failures; one that does not must not stop the others.
      }
    }
    if (next < due.length) nextTurn(slice)
  }
  slice()
}

/** Calls `member.tick()` every `periodMs` (unref'd) until `stopTicking(periodMs, member)`. */
export function everyTick (periodMs: number, member: Ticking): void {
  let clock = clocks.get(periodMs)
  if (clock === undefined) {
    const members = new Set<Ticking>()
    const timer = setInterval(() => tickAll(members), periodMs)
    // The process may exit with connections open (Node); browsers have no unref.
    ;(timer as { unref?: () => void }).unref?.()
    clock = { timer, members }
    clocks.set(periodMs, clock)
  }
  clock.members.add(member)
}

/** Stops `member`'s ticks of `periodMs`; the period's timer stops with its last member. */
export function stopTicking (periodMs: number, member: Ticking): void {
  const clock = clocks.get(periodMs)
  if (clock === undefined || !clock.members.delete(member) || clock.members.size > 0) return
  clearInterval(clock.timer)
  clocks.delete(periodMs)
}
