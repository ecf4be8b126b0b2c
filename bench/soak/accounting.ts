/**
 * Per-topic accounting of what a subscriber received, by seq (PROTOCOL.md section 1): a seq
 * skipped is a gap; a gap covered by a gap notice (a SUBSCRIPTION_ACK with `recovered: false`
 * and `first_seq`, solicited by a resume or unsolicited) is reported by the server, any other is a
 * loss. Notices may come before or after the skip: a skip stays "open" until the end of the run
 * and is explained by any notice whose `first_seq` lies beyond it. Pure: no I/O, no clock.
 */

/** Counters shared by the trackers of one role. */
export interface SeqCounts {
  /** Topic messages received (first time for their seq). */
  received: number
  /** Seqs skipped and never notified, as known at the end (open gaps included). */
  lost: number
  /** ...of which at the tail: published before the final UNSUBSCRIBE but never received. */
  lostTail: number
  /** Seqs skipped and covered by a gap notice. */
  gapSeqs: number
  /** Gap notices (SUBSCRIPTION_ACK with `recovered: false`) received. */
  gapNotices: number
  /** Messages whose seq was already received. */
  duplicates: number
  /** Messages that arrived after a later seq (filled a gap late). */
  outOfOrder: number
  /** Topic messages that arrived before the SUBSCRIPTION_ACK of their subscription. */
  beforeAck: number
}

/** Zeroed counters. */
export function seqCounts (): SeqCounts {
  return { received: 0, lost: 0, lostTail: 0, gapSeqs: 0, gapNotices: 0, duplicates: 0, outOfOrder: 0, beforeAck: 0 }
}

/** Adds `b` into `a`. */
export function addCounts (a: SeqCounts, b: SeqCounts): SeqCounts {
  for (const key of Object.keys(a) as Array<keyof SeqCounts>) a[key] += b[key]
  return a
}

/** One subscriber's view of one topic, across reconnections (resumed with `since`). */
export class SeqTracker {
  readonly counts: SeqCounts
  /** The next seq expected; undefined before the first SUBSCRIPTION_ACK. */
  next: number | undefined
  // Skipped seqs not (yet) covered by a notice: inclusive ranges, in ascending order.
  #open: Array<[number, number]> = []
  // Every seq below this was announced lost by a notice.
  #notifiedBelow = 0
  #finished = false

  constructor (counts: SeqCounts) {
    this.counts = counts
  }

  /** The `since` to resume with: the highest seq seen, or undefined before the first ACK. */
  get since (): number | undefined {
    return this.next === undefined ? undefined : this.next - 1
  }

  /** The SUBSCRIPTION_ACK of a SUBSCRIBE (with `since` when it was a resume). */
  onAck (seq: number, recovered: boolean | undefined, firstSeq: number | undefined): void {
    if (this.next === undefined) this.next = seq + 1
    if (recovered === false && firstSeq !== undefined) this.onGap(firstSeq)
  }

  /** A topic message. */
  onMessage (seq: number): void {
    if (this.#finished) return
    const next = this.next
    if (next === undefined) {
      this.counts.beforeAck++
      return
    }
    if (seq === next) {
      this.counts.received++
      this.next = seq + 1
    } else if (seq > next) {
      this.counts.received++
      this.#skip(next, seq - 1)
      this.next = seq + 1
    } else if (this.#fill(seq)) {
      this.counts.received++
      this.counts.outOfOrder++
    } else {
      this.counts.duplicates++
    }
  }

  /** A gap notice: every seq below `firstSeq` not received is reported lost. */
  onGap (firstSeq: number): void {
    this.counts.gapNotices++
    if (firstSeq <= this.#notifiedBelow) return
    this.#notifiedBelow = firstSeq
    const still: Array<[number, number]> = []
    for (const [from, to] of this.#open) {
      if (from >= firstSeq) {
        still.push([from, to])
      } else if (to < firstSeq) {
        this.counts.gapSeqs += to - from + 1
      } else {
        this.counts.gapSeqs += firstSeq - from
        still.push([firstSeq, to])
      }
    }
    this.#open = still
  }

  /**
   * Ends the accounting. With `currentSeq` (the seq of the final UNSUBSCRIBE's ACK: every
   * message up to it was queued before the ACK), what never came is lost at the tail. Open gaps
   * count as lost.
   */
  finish (currentSeq?: number): void {
    if (this.#finished) return
    this.#finished = true
    if (currentSeq !== undefined && this.next !== undefined && currentSeq >= this.next) {
      const before = this.#openSeqs()
      this.#skip(this.next, currentSeq)
      this.counts.lostTail += this.#openSeqs() - before
      this.next = currentSeq + 1
    }
    this.counts.lost += this.#openSeqs()
    this.#open = []
  }

  #openSeqs (): number {
    let n = 0
    for (const [from, to] of this.#open) n += to - from + 1
    return n
  }

  /** Records the skipped range [from, to], less what notices already covered. */
  #skip (from: number, to: number): void {
    if (from <= this.#notifiedBelow - 1) {
      const covered = Math.min(to, this.#notifiedBelow - 1) - from + 1
      this.counts.gapSeqs += covered
      from += covered
    }
    if (from <= to) this.#open.push([from, to])
  }

  /** Removes `seq` from the open gaps; false when it was not in one. */
  #fill (seq: number): boolean {
    for (let i = 0; i < this.#open.length; i++) {
      const [from, to] = this.#open[i] as [number, number]
      if (seq < from || seq > to) continue
      if (from === to) this.#open.splice(i, 1)
      else if (seq === from) this.#open[i] = [from + 1, to]
      else if (seq === to) this.#open[i] = [from, to - 1]
      else this.#open.splice(i, 1, [from, seq - 1], [seq + 1, to])
      return true
    }
    return false
  }
}
