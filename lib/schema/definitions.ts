/**
 * Named definitions for the schema generators: a schema that refers to itself by its `$id`
 * (`Type.Recursive`, whose inner `This` is `{ $ref: '<id>' }`) cannot be written inline, so it
 * becomes one named definition (`$defs` / `components.schemas` / a type alias) and every
 * reference to it points there.
 */

type Json = Record<string, unknown>

/** True when `schema` holds a `$ref` to `id` anywhere below it. */
function refersTo (value: unknown, id: string): boolean {
  if (Array.isArray(value)) return value.some((item) => refersTo(item, id))
  if (typeof value !== 'object' || value === null) return false
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && child === id) return true
    if (refersTo(child, id)) return true
  }
  return false
}

/** The definitions one generated document collects, `T` being what the generator makes of a body. */
export class Definitions<T> {
  /** Definitions by name, in the order they were first met. */
  readonly bodies = new Map<string, T>()
  readonly #byKey = new Map<string, string>()
  readonly #used: Set<string>
  readonly #scopes: Array<[id: string, name: string]> = []
  readonly #naming: (id: string) => string

  /**
   * @param naming turns an `$id` into a name of the target format
   * @param reserved names the document already uses for something else
   */
  constructor (naming: (id: string) => string, reserved: Iterable<string> = []) {
    this.#naming = naming
    this.#used = new Set(reserved)
  }

  /**
   * For a schema that refers to itself by `$id`: the name of its definition, made from its body
   * (without `$id`) by `convert` the first time this schema is met. Undefined for any other schema.
   */
  named (schema: Json, convert: (body: Json) => T): string | undefined {
    const id = schema.$id
    if (typeof id !== 'string' || !refersTo(schema, id)) return undefined
    // The same Type.Recursive wrapped by Type.Optional is a copy: it is found by content.
    const key = `${id}\n${JSON.stringify(schema)}`
    const known = this.#byKey.get(key)
    if (known !== undefined) return known
    const base = this.#naming(id)
    let name = base
    for (let n = 2; this.#used.has(name); n++) name = `${base}${n}`
    this.#used.add(name)
    this.#byKey.set(key, name)
    const { $id: _id, ...body } = schema
    this.#scopes.push([id, name])
    try {
      this.bodies.set(name, convert(body))
    } finally {
      this.#scopes.pop()
    }
    return name
  }

  /** The definition name a `$ref` points to: the innermost enclosing schema with that `$id`. */
  resolve (ref: string): string {
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const [id, name] = this.#scopes[i] as [string, string]
      if (id === ref) return name
    }
    throw new Error(`unresolved $ref "${ref}": a payload schema may refer only to an enclosing Type.Recursive (wirebox compiles each payload schema on its own)`)
  }
}
