/** The options of `wirebox connect`: declared for node:util parseArgs, their help, their checks. */
import type { Encoding } from '../core/codec.js'
import type { CompressionAlgorithm, Version } from '../core/constants.js'
import { UsageError } from './load.js'

/** The options of `wirebox connect` (node:util parseArgs). */
export const CONNECT_OPTIONS = {
  protocol: { type: 'string' },
  export: { type: 'string' },
  encoding: { type: 'string', default: 'messagepack' },
  compression: { type: 'string', default: 'gzip' },
  version: { type: 'string', default: '3' },
  query: { type: 'string', multiple: true },
  exec: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '10000' },
  full: { type: 'boolean', default: false },
  'no-validate': { type: 'boolean', default: false },
  'no-reconnect': { type: 'boolean', default: false }
} as const

/** `wirebox connect --help`. */
export const CONNECT_HELP = `usage: wirebox connect <url> [options] [--exec [command...]]

A console client for a wirebox route (ws://host:port/path) on the typed client: negotiates,
prints every message both ways (type, name, id, topic, seq, flags, bytes on the wire and body,
round trip or age, payload), sends events and requests, subscribes, and reconnects like the
client, showing gaps in a topic's seq. Type help in the console for its commands.

options:
  --encoding <e>     messagepack (default), msgpack-compact (needs --protocol: the layout is
                     compiled from its schemas, as the typed client does) or json
  --compression <c>  gzip (default), deflate or none
  --version <n>      highest protocol version to speak: 1, 2 or 3 (default 3)
  --protocol <file>  a module exporting a protocol (defineProtocol): names are checked and
                     completed, payloads validated before sending, its events printed
  --export <name>    the protocol's export (default: \`protocol\`, else the first one)
  --no-validate      send names and payloads the protocol does not allow
  --query <k=v>      an extra query parameter (repeatable), e.g. a token
  --timeout <ms>     for connecting, requests and waits (default 10000)
  --no-reconnect     stay closed when the connection drops
  --full             print payloads whole (default: cut at 400 characters)
  --exec [cmd...]    run the commands given after the URL, one per argument, or else one per
                     line of standard input, then exit: 0 when every command succeeded, else 1
  -h, --help         this help

History is kept in ~/.wirebox_history (WIREBOX_HISTORY=file to move it, empty to keep none).`

/** What parseArgs makes of CONNECT_OPTIONS. */
export type ConnectValues = { [K in keyof typeof CONNECT_OPTIONS]?: (typeof CONNECT_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof CONNECT_OPTIONS)[K] extends { type: 'boolean' } ? boolean : string }

/** The checked options of a console session. */
export interface SessionOptions {
  encoding: Encoding
  compression: CompressionAlgorithm | 'none'
  version: Version
  timeoutMs: number
  query: Record<string, string>
  validate: boolean
  reconnect: boolean
  /** Longest payload printed, 0 for no limit (default 400, --full: 0). */
  maxChars: number
}

/** Checks the options; throws a UsageError naming the first bad one. */
export function parseOptions (values: ConnectValues): SessionOptions {
  const encoding = values.encoding === 'msgpack' ? 'messagepack' : values.encoding ?? 'messagepack'
  if (encoding !== 'messagepack' && encoding !== 'msgpack-compact' && encoding !== 'json') throw new UsageError(`connect: --encoding ${encoding}: messagepack, msgpack-compact or json`)
  if (encoding === 'msgpack-compact' && values.protocol === undefined) throw new UsageError('connect: --encoding msgpack-compact needs --protocol <file> (its layout is compiled from the protocol\'s schemas)')
  const compression = values.compression ?? 'gzip'
  if (compression !== 'gzip' && compression !== 'deflate' && compression !== 'none') throw new UsageError(`connect: --compression ${compression}: gzip, deflate or none`)
  const version = Number(values.version ?? '3')
  if (version !== 1 && version !== 2 && version !== 3) throw new UsageError(`connect: --version ${String(values.version)}: 1, 2 or 3`)
  if (encoding === 'msgpack-compact' && version !== 3) throw new UsageError(`connect: --encoding msgpack-compact needs --version 3, not ${version}`)
  const timeoutMs = Number(values.timeout ?? '10000')
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`connect: --timeout ${String(values.timeout)}: a number of ms`)
  const query: Record<string, string> = {}
  for (const pair of values.query ?? []) {
    const eq = pair.indexOf('=')
    if (eq < 1) throw new UsageError(`connect: --query ${pair}: key=value`)
    query[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return { encoding, compression, version, timeoutMs, query, validate: values['no-validate'] !== true, reconnect: values['no-reconnect'] !== true, maxChars: values.full === true ? 0 : 400 }
}
