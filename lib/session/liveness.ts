/**
 * The heartbeat rule, the same for both ends (PROTOCOL.md section 1, "Heartbeat"): any message
 * is a sign of life, and a peer silent for two heartbeat intervals is gone.
 */

/** When the peer was last heard from. */
export class Liveness {
  #lastSeen = Date.now()

  /** Records a sign of life. */
  seen (now = Date.now()): void {
    this.#lastSeen = now
  }

  /** True when the peer has been silent for two intervals (never with an interval of 0). */
  silent (intervalMs: number, now = Date.now()): boolean {
    return intervalMs > 0 && now - this.#lastSeen > 2 * intervalMs
  }

  /** Checks every interval and calls `gone` once the peer is silent; returns a function that stops. */
  watch (intervalMs: number, gone: () => void): () => void {
    if (intervalMs <= 0) return () => {}
    this.seen()
    const timer = setInterval(() => { if (this.silent(intervalMs)) gone() }, intervalMs)
    ;(timer as { unref?: () => void }).unref?.()
    return () => clearInterval(timer)
  }
}
