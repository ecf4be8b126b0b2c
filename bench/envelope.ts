/**
 * bench/envelope: the envelope check every decoded message goes through (PROTOCOL.md
 * "Envelope"), hand-written (lib/core/envelope.ts) against the TypeBox-compiled schema it
 * replaced (schemas/envelope.ts, as lib/core/schema-check.ts looks it up; and its compiled
 * function alone, without the look-up), in the same run: ns per body and the ratio to the
 * compiled check as it was called. Valid bodies are a mix of an event, a request, a
 * response and a topic message; rejected ones a mix of a missing field, a bad id, a bad seq and
 * an array, for which each side finds its first problem.
 *
 * Run: npm run bench   (or: tsx bench/envelope.ts [--quick])
 */
import { printTable } from './table.js'
import { envelopeProblem, isEnvelope } from '../lib/core/envelope.js'
import { Envelope, EnvelopeCheck } from '../schemas/envelope.js'
import { firstProblem } from '../lib/core/schema-check.js'

const quick = process.argv.includes('--quick')
const ROUNDS = 5 // each row is measured in this many rounds, the best kept
const BODIES = quick ? 200_000 : 2_000_000 // bodies checked per round

const ts = 1_700_000_000_000
const VALID: unknown[] = [
  { event_type: 'ecg.data', timestamp: ts, payload: { patient_id: 'p1', seq: 7, signal: [0.1, 0.2] } },
  { event_type: 'ecg.history', timestamp: ts, id: 41, payload: { patient_id: 'p1', samples: 250 } },
  { event_type: 'ecg.history', timestamp: ts, id: 41, payload: { samples: [] } },
  { event_type: 'ecg.data', timestamp: ts, topic: 'ecg/p1', seq: 9001, payload: { v: 1 } }
]
const REJECTED: unknown[] = [
  { timestamp: ts, payload: {} },
  { event_type: 'x', timestamp: ts, id: 2 ** 32 },
  { event_type: 'x', timestamp: ts, topic: 'ecg/p1', seq: -1 },
  [1, 2]
]

/** Best ns per body over the rounds; `check` returns something the loop keeps, so none of it is dropped. */
function measure (bodies: unknown[], check: (body: unknown) => unknown): number {
  let kept = 0
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) if (check(bodies[i & 3]) !== undefined) kept++
  }
  run(BODIES / 10) // warm up
  let best = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    run(BODIES)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / BODIES)
  }
  if (kept < 0) console.log(kept)
  return best
}

const rows: string[][] = []
for (const [name, bodies, compiled, alone, handWritten] of [
  ['valid bodies (4 kinds)', VALID, (b: unknown) => firstProblem(Envelope, b) ?? 0, (b: unknown) => EnvelopeCheck.Check(b) ? 0 : 1, (b: unknown) => isEnvelope(b) ? 0 : 1],
  ['rejected bodies (first problem)', REJECTED, (b: unknown) => firstProblem(Envelope, b), (b: unknown) => EnvelopeCheck.Errors(b).First(), (b: unknown) => envelopeProblem(b)]
] as const) {
  const before = measure(bodies, compiled)
  const compiledAlone = measure(bodies, alone)
  const after = measure(bodies, handWritten)
  rows.push([name, 'TypeBox-compiled schema, as called before', before.toFixed(1), '1.00'])
  rows.push([name, 'TypeBox-compiled function alone', compiledAlone.toFixed(1), (compiledAlone / before).toFixed(2)])
  rows.push([name, 'hand-written check (now)', after.toFixed(1), (after / before).toFixed(2)])
}

console.log(`bench/envelope - node ${process.version}; ${BODIES} bodies per round, best of ${ROUNDS} rounds; ratio to the compiled schema of the same run (lower is faster)`)
console.log()
printTable(['bodies', 'check', 'ns/body', 'vs compiled'], rows)
