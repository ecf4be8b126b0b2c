/**
 * The `wirebox` command.
 *
 *   wirebox schema <module> [--export name] [--format jsonschema|asyncapi|typescript] [--out file]
 *     [--title text] [--path /ws]
 *   wirebox inspect <hex | file>
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { protocolJsonSchema } from '../schema/json-schema.js'
import { protocolAsyncApi } from '../schema/asyncapi.js'
import { protocolTypeScript } from '../schema/typescript.js'
import { inspectFrame, formatInspection, parseHex } from './inspect.js'
import type { ProtocolDefinition } from '../protocol.js'

const USAGE = `usage:
  wirebox schema <module> [--export name] [--format jsonschema|asyncapi|typescript] [--out file] [--title text] [--path /ws]
  wirebox inspect <hex | file>`

/** Loads a module (TypeScript through tsx when it is installed). */
async function load (file: string): Promise<Record<string, unknown>> {
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

function isProtocol (value: unknown): value is ProtocolDefinition {
  return typeof value === 'object' && value !== null && (value as { __wirebox?: unknown }).__wirebox === 'protocol'
}

/** Runs the command; returns the exit code. Output goes to `out` / `err`. */
export async function main (argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === 'schema') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { export: { type: 'string' }, format: { type: 'string', default: 'jsonschema' }, out: { type: 'string' }, title: { type: 'string' }, path: { type: 'string', default: '/ws' } }
      })
      const file = positionals[0]
      if (file === undefined) throw new Error(`schema: which module?\n${USAGE}`)
      const module = await load(file)
      const name = values.export ?? (isProtocol(module.protocol) ? 'protocol' : Object.keys(module).find((k) => isProtocol(module[k])))
      const protocol = name === undefined ? undefined : module[name]
      if (!isProtocol(protocol)) throw new Error(`${file} exports no protocol${values.export === undefined ? '' : ` named ${values.export}`} (made by defineProtocol)`)
      const options = { title: values.title ?? `${file}#${name ?? 'protocol'}`, path: values.path }
      let text: string
      if (values.format === 'jsonschema') text = JSON.stringify(protocolJsonSchema(protocol, options), null, 2) + '\n'
      else if (values.format === 'asyncapi') text = JSON.stringify(protocolAsyncApi(protocol, options), null, 2) + '\n'
      else if (values.format === 'typescript') text = protocolTypeScript(protocol, options)
      else throw new Error(`unknown format ${String(values.format)}: jsonschema, asyncapi or typescript`)
      if (values.out === undefined) out(text)
      else writeFileSync(values.out, text)
      return 0
    }
    if (command === 'inspect') {
      const target = rest.join(' ').trim()
      if (target === '') throw new Error(`inspect: give a frame in hex, or a file\n${USAGE}`)
      let input: Uint8Array | string
      if (existsSync(target)) {
        const raw = readFileSync(target)
        const asText = raw.toString('utf8').trim()
        input = parseHex(asText) ?? (asText.startsWith('{') ? asText : raw)
      } else {
        const bytes = parseHex(target)
        if (bytes === undefined && !target.startsWith('{')) throw new Error('inspect: not hex, not JSON, and no such file')
        input = bytes ?? target
      }
      const inspection = await inspectFrame(input)
      out(formatInspection(inspection) + '\n')
      return inspection.problems.length === 0 ? 0 : 1
    }
    err(`${USAGE}\n`)
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2
  } catch (error) {
    err(`wirebox: ${(error as Error).message}\n`)
    return 2
  }
}
