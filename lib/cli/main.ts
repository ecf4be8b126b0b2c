/**
 * The `wirebox` command: `schema`, `inspect` and `connect`, each with `--help`; `--version`.
 * `main` returns the exit code (0 done, 1 a problem found or a command failed, 2 a usage error);
 * bin/wirebox.js exits with it once the output is written.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import { protocolJsonSchema } from '../schema/json-schema.js'
import { protocolAsyncApi } from '../schema/asyncapi.js'
import { protocolTypeScript } from '../schema/typescript.js'
import { inspectFrame, formatInspection, parseHex } from './inspect.js'
import { compileLayout } from '../core/compact/layout.js'
import { loadProtocol, UsageError } from './load.js'
import { connect } from './connect.js'
import { CONNECT_HELP, CONNECT_OPTIONS } from './connect-options.js'
import type { ConsoleStreams } from './connect.js'

const SCHEMA_HELP = `usage: wirebox schema <module> [options]

Prints the schemas of a protocol made by defineProtocol, for clients that cannot import it.
A TypeScript module is loaded through tsx.

options:
  --export <name>    the export (default: \`protocol\`, else the first protocol exported)
  --format <format>  jsonschema (JSON Schema 2020-12, the default), asyncapi (AsyncAPI 3.0)
                     or typescript (a .d.ts with one type per payload and the Events and
                     Requests maps)
  --out <file>       write to a file instead of standard output
  --title <text>     the documents' title (default: <module>#<export>)
  --path <route>     the WebSocket route the documents name (default /ws)
  -h, --help         this help`

const INSPECT_HELP = `usage: wirebox inspect <hex | file> [options]

Decodes one frame: header (version, type, flags, length, checksum, timestamp), chunk header,
compression and body. The frame is hex (spaces, 0x and : allowed), a file holding hex or the
raw bytes, or the JSON text of a text message. Exit code 1 when a problem was found.

options:
  --protocol <file>  a module exporting the protocol (defineProtocol): msgpack-compact bodies
                     are read with its layout (event names and fields); without it they are
                     shown by position
  --export <name>    the protocol's export (default: \`protocol\`, else the first one)
  -h, --help         this help`

const USAGE = `usage: wirebox <command> [options]

commands:
  schema <module>   JSON Schema, AsyncAPI or TypeScript types of a protocol
  inspect <frame>   decode one frame (hex or a file)
  connect <url>     a console client: requests, events and topics, typed by a protocol

options:
  -h, --help        this help (wirebox <command> --help: the command's)
  -v, --version     the version of fastify-wirebox`

const HELP: Record<string, string> = { schema: SCHEMA_HELP, inspect: INSPECT_HELP, connect: CONNECT_HELP }

/** The version in the package's package.json. */
function packageVersion (): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const file = new URL(up, import.meta.url)
    if (!existsSync(file)) continue
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
    if (json.name === 'fastify-wirebox' && json.version !== undefined) return json.version
  }
  return 'unknown'
}

function parse<O extends NonNullable<ParseArgsConfig['options']>> (command: string, args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[], options: O, allowPositionals: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true })
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}`)
  }
}

async function schema (args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse('schema', args, {
    export: { type: 'string' }, format: { type: 'string', default: 'jsonschema' }, out: { type: 'string' }, title: { type: 'string' }, path: { type: 'string', default: '/ws' }
  })
  const file = positionals[0]
  if (file === undefined) throw new UsageError('schema: which module?')
  if (!['jsonschema', 'asyncapi', 'typescript'].includes(values.format)) throw new UsageError(`schema: unknown format ${values.format}: jsonschema, asyncapi or typescript`)
  const { name, protocol } = await loadProtocol(file, values.export)
  const options = { title: values.title ?? `${file}#${name}`, path: values.path }
  const text = values.format === 'jsonschema'
    ? JSON.stringify(protocolJsonSchema(protocol, options), null, 2) + '\n'
    : values.format === 'asyncapi' ? JSON.stringify(protocolAsyncApi(protocol, options), null, 2) + '\n' : protocolTypeScript(protocol, options)
  if (values.out === undefined) out(text)
  else writeFileSync(values.out, text)
  return 0
}

async function inspect (args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parse('inspect', args, { protocol: { type: 'string' }, export: { type: 'string' } })
  if (values.protocol === undefined && values.export !== undefined) throw new UsageError('inspect: --export needs --protocol')
  const target = positionals.join(' ').trim()
  if (target === '') throw new UsageError('inspect: give a frame in hex, or a file')
  let input: Uint8Array | string
  if (existsSync(target)) {
    const raw = readFileSync(target)
    const asText = raw.toString('utf8').trim()
    input = parseHex(asText) ?? (asText.startsWith('{') ? asText : raw)
  } else {
    const bytes = parseHex(target)
    if (bytes === undefined && !target.startsWith('{')) throw new UsageError('inspect: not hex, not JSON, and no such file')
    input = bytes ?? target
  }
  const layout = values.protocol === undefined ? undefined : compileLayout((await loadProtocol(values.protocol, values.export)).protocol)
  const inspection = await inspectFrame(input, { layout })
  out(formatInspection(inspection) + '\n')
  return inspection.problems.length === 0 ? 0 : 1
}

/**
 * Runs the command; returns the exit code. Output goes to `out` / `err`; `connect` also reads
 * `streams.stdin` (default: the process's streams).
 */
export async function main (argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s), streams?: ConsoleStreams): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      const topic = command === 'help' ? rest[0] : undefined
      if (topic !== undefined && HELP[topic] === undefined) throw new UsageError(`unknown command "${topic}"`)
      out(`${topic === undefined ? USAGE : HELP[topic] as string}\n`)
      return command === undefined ? 2 : 0
    }
    if (command === '--version' || command === '-v') {
      out(`${packageVersion()}\n`)
      return 0
    }
    const help = HELP[command]
    if (help === undefined) throw new UsageError(`unknown command "${command}"`)
    if (rest.includes('--help') || rest.includes('-h')) {
      out(`${help}\n`)
      return 0
    }
    switch (command) {
      case 'schema': return await schema(rest, out)
      case 'inspect': return await inspect(rest, out)
      default: {
        const { values, positionals } = parse('connect', rest, CONNECT_OPTIONS)
        return await connect(values, positionals, { out, err, ...streams })
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`wirebox: ${error.message}\n${command !== undefined && HELP[command] !== undefined ? `(wirebox ${command} --help for its options)` : USAGE}\n`)
      return 2
    }
    err(`wirebox: ${(error as Error).message}\n`)
    return 1
  }
}
