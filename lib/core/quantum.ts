/**
 * The quantum of a quantized number (PROTOCOL.md section 9.4): the schema's `x-quantum`, 1 / n
 * for a whole n. Here rather than beside `Quantized` (schemas/wire-types.ts) so that the
 * msgpack-compact nodes read it without loading TypeBox's schema builder.
 */

/**
 * Checks a quantum: 1 / scale for a whole scale from 1 to 2^31 (1, 0.5, 0.01, 0.001 ...), so a
 * value that is not a multiple is never a whole number (PROTOCOL.md section 9.4).
 */
export function scaleOf (quantum: number): number {
  const scale = Math.round(1 / quantum)
  if (!(quantum > 0) || !Number.isFinite(quantum) || scale < 1 || scale > 2 ** 31 || 1 / scale !== quantum) {
    throw new TypeError(`A quantum must be 1 / n for a whole n from 1 to 2^31 (e.g. 0.001); got ${quantum}`)
  }
  return scale
}

/** The scale (1 / quantum) of a schema with `x-quantum`, or undefined; throws for a bad quantum. */
export function quantumScale (schema: unknown): number | undefined {
  const quantum = (schema as { 'x-quantum'?: unknown })['x-quantum']
  if (quantum === undefined) return undefined
  if (typeof quantum !== 'number') throw new TypeError(`x-quantum must be a number; got ${typeof quantum}`)
  return scaleOf(quantum)
}
