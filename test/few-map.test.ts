import { test } from 'tap'
import { FEW, fewDelete, fewGet, fewHas, fewNames, fewSet, fewSize } from '../lib/session/few-map.js'
import type { FewMap } from '../lib/session/few-map.js'

test('a few names in a flat array, more in a Map: the same answers, in the order added', async (t) => {
  let map: FewMap<number[]>
  t.equal(fewGet(map, 'a'), undefined)
  t.equal(fewHas(map, 'a'), false)
  t.same(fewNames(map), [])
  const values: number[][] = []
  for (let i = 0; i <= FEW; i++) {
    values.push([i])
    map = fewSet(map, `n${i}`, values[i] as number[])
    t.equal(map instanceof Map, i === FEW, `${i + 1} names: ${i === FEW ? 'a Map' : 'an array'}`)
    for (let j = 0; j <= i; j++) t.equal(fewGet(map, `n${j}`), values[j], 'a value that is an array is kept as one value')
  }
  t.same(fewNames(map), values.map((_, i) => `n${i}`), 'in the order added, across the change to a Map')
  t.equal(fewHas(map, 'constructor'), false, 'no name is inherited')
  t.equal(fewHas(map, '__proto__'), false)
})

test('setting again keeps the place; deleting keeps the order of the others; empty is undefined', async (t) => {
  let map: FewMap<number | undefined> = fewSet(undefined, 'a', 1)
  map = fewSet(map, 'b', undefined)
  map = fewSet(map, 'c', 3)
  const before = map
  map = fewSet(map, 'b', 2)
  t.equal(map, before, 'a new value of a name is set in place')
  t.equal(fewHas(map, 'b'), true)
  t.equal(fewGet(map, 'b'), 2)
  t.same(fewNames(map), ['a', 'b', 'c'])
  let less = fewDelete(map, 'b')
  t.same(fewNames(less), ['a', 'c'])
  t.same(fewNames(map), ['a', 'b', 'c'], 'deleting makes another array: a walk of the old one is not disturbed')
  t.equal(fewDelete(less, 'x'), less, 'deleting a name not there changes nothing')
  less = fewDelete(fewDelete(less, 'a'), 'c')
  t.equal(less, undefined, 'empty')
  t.equal(fewHas(fewSet(undefined, 'u', undefined), 'u'), true, 'a name whose value is undefined is there')

  let big: FewMap<number>
  for (let i = 0; i <= FEW; i++) big = fewSet(big, String(i), i)
  for (let i = 0; i < FEW; i++) big = fewDelete(big, String(i))
  t.same(fewNames(big), [String(FEW)])
  t.equal(fewDelete(big, String(FEW)), undefined, 'a Map emptied is undefined too')
})

test('a set of one is the name itself; it grows into the array and the Map and shrinks back to nothing', async (t) => {
  let set: FewMap<true> = fewSet(undefined, 'topic/a', true)
  t.equal(set, 'topic/a', 'one name whose value is true: the name')
  t.equal(fewSet(set, 'topic/a', true), set, 'set again: the same')
  t.equal(fewHas(set, 'topic/a'), true)
  t.equal(fewHas(set, 'topic'), false, 'not a substring match')
  t.equal(fewGet(set, 'topic/a'), true)
  t.equal(fewGet(set, 'topic/b'), undefined)
  t.equal(fewSize(set), 1)
  t.same(fewNames(set), ['topic/a'])
  t.equal(fewDelete(set, 'topic/b'), set, 'deleting another name changes nothing')
  t.equal(fewDelete(set, 'topic/a'), undefined, 'deleting the one name empties it')
  set = fewSet(set, 'topic/a', true)
  for (let i = 1; i < FEW; i++) set = fewSet(set, `topic/${i}`, true)
  t.ok(Array.isArray(set), `${FEW} names: the flat array`)
  set = fewSet(set, 'topic/last', true)
  t.ok(set instanceof Map, `${FEW + 1}: a Map`)
  t.same(fewNames(set), ['topic/a', ...Array.from({ length: FEW - 1 }, (_, i) => `topic/${i + 1}`), 'topic/last'], 'in the order added')
  t.equal(fewSize(set), FEW + 1)
  const one = fewSet(undefined, 'x', 1)
  t.same(one, ['x', 1], 'a value other than true: the flat array')
})
