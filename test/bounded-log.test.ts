import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { clip, clipDetails } from '../lib/server/bounded-log.js'
import { MAX_PROBLEMS, validatePayload } from '../lib/protocol.js'

test('clipDetails keeps problems and allowed values, bounded: strings clipped, arrays cut, nesting limited', async (t) => {
  const long = 'x'.repeat(1000)
  const details = {
    path: long,
    event_type: 'e',
    problems: [{ path: '/a', message: 'm', allowed: Array.from({ length: 100 }, (_, i) => i) }],
    deep: { a: { b: { c: { d: 'too deep' } } } },
    fn: () => {}
  }
  const kept = clipDetails(details) as Record<string, unknown>
  t.equal(kept.path, clip(long), 'strings are clipped')
  t.same(kept.problems, [{ path: '/a', message: 'm', allowed: Array.from({ length: 64 }, (_, i) => i) }], 'arrays keep 64 items')
  t.same(kept.deep, { a: { b: {} } }, 'four levels of maps and arrays at most')
  t.notOk('fn' in kept, 'functions are left out')
  t.same(clipDetails(undefined, 'ev'), { event_type: 'ev' }, 'the event an error is about is added')
  t.same(clipDetails({ event_type: 'own' }, 'ev'), { event_type: 'own' }, 'but not over the error\'s own')
  t.equal(clipDetails(['a']), undefined, 'details are a map')
})

test('validatePayload reports at most MAX_PROBLEMS problems, and says how many more in its message', async (t) => {
  const schema = Type.Object(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, Type.Integer()])))
  const err = validatePayload(schema, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, 'no'])), 'many')
  const problems = (err?.details as { problems: unknown[] }).problems
  t.equal(problems.length, MAX_PROBLEMS)
  t.match(err?.message, /\/payload\/p0: Expected integer \(and 15 more problems\)$/)
  t.equal(validatePayload(schema, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, i])), 'many'), undefined, 'a valid payload has none')
})
