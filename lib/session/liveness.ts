/**
 * The heartbeat rule, the same for both ends (PROTOCOL.md section 1, "Heartbeat"): any message
 * is a sign of life, and a peer silent for two heartbeat intervals is gone.
 */

// Clock readings are kept as 32-bit integers of milliseconds since this module loaded, so that
// V8 holds them in the object itself (a Date.now() is a heap number of its own, 16 more bytes on
// every connection). They wrap after 24.8 days; a difference of two readings taken modulo 2^32
// is right as long as they are less than 24.8 days apart, and the readings compared here are
// at most a few heartbeat intervals apart.
const EPOCH = Date.now()
function clock (now: number): number {
  return (now - EPOCH) | 0
}

/**
 * When the peer was last heard from. A message only raises a flag (no clock read per message);
 * each check takes the flag as a sign of life at the time of the check. So silence is found
 * between two intervals and two intervals plus two checking periods after the last message:
 * never early.
 */
export class Liveness {
  #lastSeen = clock(Date.now())
  #heard = false

  /** Records a sign of life. */
  seen (): void {
    this.#heard = true
  }

  /** True when the peer has been silent for two intervals (never with an interval of 0). */
  silent (intervalMs: number, now = Date.now()): boolean {
    const at = clock(now)
    if (this.#heard) {
      this.#heard = false
      this.#lastSeen = at
      return false
    }
    return intervalMs > 0 && ((at - this.#lastSeen) | 0) > 2 * intervalMs
  }
}
