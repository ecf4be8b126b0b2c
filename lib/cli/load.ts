/** Loading a user's module (TypeScript through tsx when it is installed) and finding its protocol. */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Protocol, ProtocolDefinition } from '../protocol.js'

/** A usage error (bad arguments): exit code 2. */
export class UsageError extends Error {}

/** Imports a module by file name. */
async function loadModule (file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(file)).href
  if (/\.[mc]?tsx?$/.test(file)) {
    let tsx: { tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>> }
    try {
      tsx = await import('tsx/esm/api') as typeof tsx
    } catch {
      throw new Error(`${file} is TypeScript: install tsx (npm i -D tsx) or point to the compiled .js`)
    }
    return await tsx.tsImport(url, import.meta.url)
  }
  return await import(url) as Record<string, unknown>
}

/** True for what defineProtocol returns. */
function isProtocol (value: unknown): value is Protocol<ProtocolDefinition> {
  return typeof value === 'object' && value !== null && (value as { __wirebox?: unknown }).__wirebox === 'protocol'
}

/** The protocol a module exports as `name` (default: `protocol`, else the first protocol exported). */
export async function loadProtocol (file: string, name?: string): Promise<{ name: string, protocol: Protocol<ProtocolDefinition> }> {
  const module = await loadModule(file)
  const chosen = name ?? (isProtocol(module.protocol) ? 'protocol' : Object.keys(module).find((k) => isProtocol(module[k])))
  const protocol = chosen === undefined ? undefined : module[chosen]
  if (chosen === undefined || !isProtocol(protocol)) throw new UsageError(`${file} exports no protocol${name === undefined ? '' : ` named ${name}`} (made by defineProtocol)`)
  return { name: chosen, protocol }
}
