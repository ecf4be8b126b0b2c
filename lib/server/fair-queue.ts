/**
 * Fair turns for work that runs user handlers or encodes large responses (PROTOCOL.md "Limits",
 * fairness). While the event loop is lightly loaded, work runs at once. Once this turn of the
 * loop has been busy for a slice, work waits in first-in-first-out order and is run a slice per
 * turn (at least one task), so sockets are read, and PINGs answered, between two pieces of work:
 * one connection's backlog costs the others at most one piece of work at a time. Work that
 * finishes something already started (a response) goes before new work (a request).
 */

/** Busy time per event-loop turn after which work waits for a later turn (default 10 ms). */
const FAIR_SLICE_MS = 10

type Task = () => void

/** A first-in-first-out list with O(1) shift. */
class TaskList {
  #items: Task[] = []
  #head = 0

  get size (): number {
    return this.#items.length - this.#head
  }

  push (task: Task): void {
    this.#items.push(task)
  }

  shift (): Task {
    const task = this.#items[this.#head] as Task
    this.#items[this.#head++] = noop
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head > 1024) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return task
  }
}

/** A process-wide scheduler of synchronous work. */
class FairQueue {
  readonly #sliceMs: number
  readonly #finishing = new TaskList()
  readonly #starting = new TaskList()
  #turnStart = -1
  #draining = false

  constructor (sliceMs = FAIR_SLICE_MS) {
    this.#sliceMs = sliceMs
  }

  /** Tasks waiting for a turn. */
  get waiting (): number {
    return this.#finishing.size + this.#starting.size
  }

  /**
   * Runs `task` now when the loop has time, else in a later turn, in order. `finishing`: it
   * completes work already started and goes before new work. `task` must handle its own errors.
   */
  run (task: Task, finishing = false): void {
    if (this.free()) {
      task()
      return
    }
    if (finishing) this.#finishing.push(task)
    else this.#starting.push(task)
    if (!this.#draining) {
      this.#draining = true
      setImmediate(this.#drain)
    }
  }

  /** True when work may run now (nothing waits, this turn has time): then run it directly, no task needed. */
  free (): boolean {
    return this.waiting === 0 && !this.#overBudget()
  }

  #overBudget (): boolean {
    const now = performance.now()
    if (this.#turnStart < 0) {
      this.#turnStart = now
      setImmediate(() => { this.#turnStart = -1 })
    }
    return now - this.#turnStart > this.#sliceMs
  }

  readonly #drain = (): void => {
    const start = performance.now()
    do {
      const task = this.#finishing.size > 0 ? this.#finishing.shift() : this.#starting.shift()
      try {
        task()
      } catch {
        // Tasks handle their own failures; one that does not must not stop the queue.
      }
    } while (this.waiting > 0 && performance.now() - start < this.#sliceMs)
    if (this.waiting > 0) setImmediate(this.#drain)
    else this.#draining = false
  }
}

function noop (): void {}

/** The queue all connections of the process share. */
export const fairQueue = new FairQueue()
