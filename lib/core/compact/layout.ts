/**
 * The msgpack-compact layout of a protocol (PROTOCOL.md section 9): every event and request gets
 * a small integer id, and every payload schema compiles once into a node that turns a value into
 * its positional wire form and back. Pure code: the browser client bundles it.
 *
 *   object (fixed properties)  -> array in the schema's property order, nil for an absent optional
 *   array / tuple               -> array, items compiled likewise
 *   Quantized number            -> integer count of the quantum, or the float itself
 *   QuantizedArray, delta       -> first count then differences, or the floats (element by element)
 *   NdArray                     -> bin (the elements' little-endian bytes)
 *   anything else               -> as the messagepack encoding writes it (maps for objects)
 */
import { errors } from '../../errors.js'
import { compileNode } from './nodes.js'
import type { LayoutNode } from './layout-types.js'

export { MAX_COUNT, LayoutError } from './layout-types.js'
export type { LayoutField, LayoutNode, NodeCodec } from './layout-types.js'
export { admitsNull, compileNode } from './nodes.js'
import type { ProtocolDefinition } from '../../protocol.js'
import { protocolTables } from '../../protocol-tables.js'
import type { LayoutSummary } from '../../../schemas/negotiation.js'

/** One event or request of the table. */
export interface LayoutEntry {
  /** Its id on the wire: its index in `events` or `requests`. */
  readonly id: number
  readonly name: string
  /** EVENT payload, or REQUEST payload. */
  readonly payload: LayoutNode
  /** RESPONSE payload (requests only). */
  readonly response: LayoutNode | undefined
}

/** A protocol's compiled msgpack-compact layout. */
export interface CompactLayout {
  /** FNV-1a 64 (16 hex digits) of `description`: equal hashes, same wire form. */
  readonly hash: string
  /** Events by id. */
  readonly events: readonly LayoutEntry[]
  /** Requests by id. */
  readonly requests: readonly LayoutEntry[]
  /** Events by name (a Map: names from the wire never reach an object's prototype). */
  readonly eventsByName: ReadonlyMap<string, LayoutEntry>
  /** Requests by name. */
  readonly requestsByName: ReadonlyMap<string, LayoutEntry>
  /** The canonical description the hash is made of (JSON text). */
  readonly description: string
  /** What PROTOCOL_NEGOTIATION carries in `layout`. */
  readonly summary: LayoutSummary
}

const cache = new WeakMap<ProtocolDefinition, CompactLayout>()

/**
 * The msgpack-compact layout of a protocol, compiled once per protocol object and cached. Ids
 * follow the order of the events (`events`, `serverToClient`, then `clientToServer`) and of
 * `requests` in the definition.
 */
export function compileLayout (protocol: ProtocolDefinition): CompactLayout {
  let layout = cache.get(protocol)
  if (layout !== undefined) return layout
  const events = [...protocolTables(protocol).events].map(([name, schema], id) =>
    Object.freeze({ id, name, payload: compileNode(schema), response: undefined }))
  const requests = Object.entries(protocol.requests ?? {}).map(([name, request], id) =>
    Object.freeze({ id, name, payload: compileNode(request.payload), response: compileNode(request.response) }))
  const description = JSON.stringify({
    layout: 1,
    events: events.map((e) => [e.name, e.payload.describe]),
    requests: requests.map((r) => [r.name, r.payload.describe, (r.response as LayoutNode).describe])
  })
  const hash = fnv1a64(description)
  layout = Object.freeze({
    hash,
    events: Object.freeze(events),
    requests: Object.freeze(requests),
    eventsByName: new Map(events.map((e) => [e.name, e])),
    requestsByName: new Map(requests.map((r) => [r.name, r])),
    description,
    summary: Object.freeze({ hash, events: events.map((e) => e.name), requests: requests.map((r) => r.name) })
  })
  cache.set(protocol, layout)
  return layout
}

/**
 * Throws WIREBOX_ERR_LAYOUT_MISMATCH unless the peer's layout (from PROTOCOL_NEGOTIATION, or a
 * hash from VERSION_CHECK) is this side's: the schemas differ, and compact bodies would be misread.
 */
export function assertSameLayout (layout: CompactLayout, peer: LayoutSummary | string | undefined): void {
  const hash = typeof peer === 'string' ? peer : peer?.hash
  if (hash === layout.hash) return
  let why = 'the peer sent no layout'
  if (typeof peer === 'string') why = 'the schemas differ'
  else if (peer !== undefined) {
    const differs = (mine: readonly string[], theirs: readonly string[] | undefined, what: string): string | undefined => {
      if (!Array.isArray(theirs)) return `no ${what} table`
      const missing = theirs.filter((n) => !mine.includes(n))
      const extra = mine.filter((n) => !theirs.includes(n))
      if (missing.length + extra.length > 0) return `${what} only the peer has: [${missing.join(', ')}], only this side has: [${extra.join(', ')}]`
      if (mine.some((n, i) => theirs[i] !== n)) return `${what} in another order`
      return undefined
    }
    why = differs(layout.summary.events, peer.events, 'events') ??
      differs(layout.summary.requests, peer.requests, 'requests') ??
      'same names, but payload schemas differ'
  }
  throw new errors.WIREBOX_ERR_LAYOUT_MISMATCH(String(hash), layout.hash, why)
}

/** FNV-1a, 64 bits, over the UTF-8 bytes of `text`: 16 lowercase hex digits. */
export function fnv1a64 (text: string): string {
  const bytes = new TextEncoder().encode(text)
  // Four 16-bit limbs; the prime is 2^40 + 0x1b3.
  let h0 = 0x2325; let h1 = 0x8422; let h2 = 0x9ce4; let h3 = 0xcbf2
  for (const byte of bytes) {
    h0 ^= byte
    const t0 = h0 * 0x1b3
    const t1 = h1 * 0x1b3
    const t2 = h2 * 0x1b3 + (h0 << 8)
    const t3 = h3 * 0x1b3 + (h1 << 8)
    h0 = t0 & 0xffff
    const c1 = t1 + (t0 >>> 16)
    h1 = c1 & 0xffff
    const c2 = t2 + (c1 >>> 16)
    h2 = c2 & 0xffff
    h3 = (t3 + (c2 >>> 16)) & 0xffff
  }
  return [h3, h2, h1, h0].map((h) => h.toString(16).padStart(4, '0')).join('')
}
