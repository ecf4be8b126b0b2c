/**
 * A map from names to values for the few names a connection usually has (the events a client
 * listens to, the topics either end follows): a flat array `[name, value, name, value, ...]`
 * while there are at most FEW names, a Map beyond. One name then costs 64 bytes of heap where a
 * Map costs 184 (a Set 152), on every connection; a lookup compares at most FEW names. Names
 * keep the order they were added in, either way. The functions that change it return the map to
 * keep (another one when it grows).
 */

/** Names held in the flat array before it becomes a Map. */
export const FEW = 8

/**
 * A map of names, or undefined when empty. A set of one (one name whose value is `true`: a
 * connection's one topic) is the name itself, which costs nothing more than the name.
 */
export type FewMap<V> = string | Array<string | V> | Map<string, V> | undefined

/** The flat array form of a set of one. */
function spread<V> (map: Exclude<FewMap<V>, undefined>): Array<string | V> | Map<string, V> {
  return typeof map === 'string' ? [map, true as V] : map
}

function indexOf<V> (entries: Array<string | V>, name: string): number {
  for (let i = 0; i < entries.length; i += 2) if (entries[i] === name) return i
  return -1
}

/** The value of `name`. */
export function fewGet<V> (map: FewMap<V>, name: string): V | undefined {
  if (map === undefined) return undefined
  if (typeof map === 'string') return map === name ? true as V : undefined
  if (map instanceof Map) return map.get(name)
  const i = indexOf(map, name)
  return i < 0 ? undefined : map[i + 1] as V
}

/** Whether `name` is in the map. */
export function fewHas<V> (map: FewMap<V>, name: string): boolean {
  if (map === undefined) return false
  if (typeof map === 'string') return map === name
  return map instanceof Map ? map.has(name) : indexOf(map, name) >= 0
}

/** Sets the value of `name`; returns the map to keep. */
export function fewSet<V> (map: FewMap<V>, name: string, value: V): Exclude<FewMap<V>, undefined> {
  if (map === undefined) return value === true ? name : [name, value]
  if (map === name && value === true) return map
  map = spread(map)
  if (map instanceof Map) return map.set(name, value)
  const i = indexOf(map, name)
  if (i >= 0) {
    map[i + 1] = value
    return map
  }
  if (map.length < 2 * FEW) return map.concat(name, [value] as Array<string | V>)
  const grown = new Map<string, V>()
  for (let j = 0; j < map.length; j += 2) grown.set(map[j] as string, map[j + 1] as V)
  return grown.set(name, value)
}

/** Removes `name`; returns the map to keep (undefined once empty). */
export function fewDelete<V> (map: FewMap<V>, name: string): FewMap<V> {
  if (map === undefined) return undefined
  if (typeof map === 'string') return map === name ? undefined : map
  if (map instanceof Map) {
    map.delete(name)
    return map.size === 0 ? undefined : map
  }
  const i = indexOf(map, name)
  if (i < 0) return map
  if (map.length === 2) return undefined
  return map.slice(0, i).concat(map.slice(i + 2))
}

/** How many names the map holds. */
export function fewSize<V> (map: FewMap<V>): number {
  if (map === undefined) return 0
  if (typeof map === 'string') return 1
  return map instanceof Map ? map.size : map.length / 2
}

/** The names, in the order they were added. */
export function fewNames<V> (map: FewMap<V>): string[] {
  if (map === undefined) return []
  if (typeof map === 'string') return [map]
  if (map instanceof Map) return [...map.keys()]
  const names: string[] = []
  for (let i = 0; i < map.length; i += 2) names.push(map[i] as string)
  return names
}
