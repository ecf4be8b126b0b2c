/**
 * Node only: writes to a `ws` WebSocket reach its TCP socket together, in one system call, until
 * the current operation ends. Called when a message arrives, so that what the messages ws reads
 * from one chunk set off goes out in one write, not one each.
 *
 * - The server's answers are written while the message is handled: they are together by the next
 *   `process.nextTick` (which Node runs before this turn's promise jobs), so an answer never
 *   waits for anything else.
 * - A client's next requests are written by promise jobs (the callers awaiting the replies): they
 *   are together by the end of the event loop's poll phase (`setImmediate`).
 */
import type { Socket } from 'node:net'

function uncork (tcp: Socket): void {
  tcp.uncork()
}

/**
 * Corks the TCP socket under `ws` (a `ws` WebSocket; anything else is left alone) until the next
 * tick, or with `untilPollEnds` until the poll phase of this event-loop turn ends.
 */
export function coalesceWrites (ws: unknown, untilPollEnds = false): void {
  const tcp = (ws as { _socket?: Socket | null })._socket
  if (tcp == null || tcp.writableCorked !== 0 || typeof tcp.cork !== 'function') return
  tcp.cork()
  if (untilPollEnds) setImmediate(uncork, tcp)
  else process.nextTick(uncork, tcp)
}

/**
 * Writes what `ws`'s TCP socket holds corked now. Bytes held for coalescing are not a peer that
 * does not read: back-pressure flushes them before it judges the send buffer.
 */
export function flushCoalesced (ws: unknown): void {
  const tcp = (ws as { _socket?: Socket | null })._socket
  if (tcp == null || typeof tcp.uncork !== 'function') return
  // The scheduled uncork then finds nothing corked, and does nothing.
  while (tcp.writableCorked > 0) tcp.uncork()
}
