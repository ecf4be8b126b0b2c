/** The compiled forms of the msgpack-compact layout (PROTOCOL.md section 9), shared by its modules. */
import type { TSchema } from '@sinclair/typebox'
import type { CompactWriter } from './writer.js'

/** Counts of a quantum are sent as integers only below this magnitude, so differences stay exact. */
export const MAX_COUNT = 2 ** 52

/** A compiled schema: its wire form, both ways. */
export type LayoutNode =
  | { readonly kind: 'value', readonly schema: TSchema } & NodeCodec
  | { readonly kind: 'object', readonly schema: TSchema, readonly fields: readonly LayoutField[] } & NodeCodec
  | { readonly kind: 'array', readonly schema: TSchema, readonly item: LayoutNode } & NodeCodec
  | { readonly kind: 'tuple', readonly schema: TSchema, readonly items: readonly LayoutNode[] } & NodeCodec
  | { readonly kind: 'quantized', readonly schema: TSchema, readonly scale: number } & NodeCodec
  | { readonly kind: 'delta', readonly schema: TSchema, readonly scale: number } & NodeCodec
  | { readonly kind: 'ndarray', readonly schema: TSchema, readonly dtype: string } & NodeCodec

/** One property of an object node. */
export interface LayoutField {
  readonly name: string
  readonly optional: boolean
  /** A required property whose schema admits null reads nil as null; others read it as absent. */
  readonly nullable: boolean
  readonly node: LayoutNode
}

/** What every node does. */
export interface NodeCodec {
  /**
   * Writes the wire form of a value, never undefined: callers write nil for that (throws a
   * `LayoutError` with `encoding` set for what the form cannot carry).
   */
  readonly write: (writer: CompactWriter, value: unknown) => void
  /**
   * The value of a wire form as the messagepack codec decoded it, not nil (throws a `LayoutError`
   * for a wire form of the wrong shape). Arrays are the decoder's own: they may be reused in place.
   */
  readonly decode: (wire: unknown) => unknown
  /** A canonical description of the wire form, the input of the layout hash. */
  readonly describe: unknown
}

/**
 * A value or wire form that does not fit the layout, at `path` (a JSON pointer below the
 * payload, built on the way out so the hot path builds no strings); the codec turns it into a
 * catalog error naming the event.
 */
export class LayoutError extends Error {
  path = ''
  constructor (readonly encoding: boolean, reason: string) {
    super(reason)
  }
}

/** Prefixes `segment` to the path of a LayoutError passing through; rethrows anything else. */
export function within (err: unknown, segment: string | number): never {
  if (err instanceof LayoutError) err.path = `/${segment}${err.path}`
  throw err
}
