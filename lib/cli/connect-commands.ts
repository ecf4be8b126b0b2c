/**
 * The commands of `wirebox connect`, their completion, and payload templates from the schemas.
 * Each command returns true when it succeeded (`--exec` exits 1 when one did not).
 */
import { Kind, OptionalKind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { reviveJson } from '../core/tagged-values.js'
import { acceptsUndefined } from '../schema/json-schema.js'
import { protocolTables } from '../protocol-tables.js'
import type { ConsoleSession } from './connect.js'

/** One console command. */
interface Command {
  usage: string
  summary: string
  aliases?: string[]
  run: (session: ConsoleSession, rest: string) => Promise<boolean>
  /** Completions of the word after the command. */
  names?: (session: ConsoleSession) => string[]
}

/** Splits `name payload...` with options (`--ack`, `--priority`, `--timeout N`) before the name or after the payload. */
export function splitArguments (rest: string): { name: string, payload: string, options: Map<string, string | true> } {
  const options = new Map<string, string | true>()
  let text = rest.trim()
  for (let m = /^--([a-z]+)(?:[= ](\d+))?(?:\s+|$)/.exec(text); m !== null; m = /^--([a-z]+)(?:[= ](\d+))?(?:\s+|$)/.exec(text)) {
    options.set(m[1] as string, m[2] ?? true)
    text = text.slice(m[0].length)
  }
  for (let m = /\s--([a-z]+)(?:[= ](\d+))?$/.exec(` ${text}`); m !== null; m = /\s--([a-z]+)(?:[= ](\d+))?$/.exec(` ${text}`)) {
    options.set(m[1] as string, m[2] ?? true)
    text = ` ${text}`.slice(0, m.index).trim()
  }
  const space = text.search(/\s/)
  return space === -1 ? { name: text, payload: '', options } : { name: text.slice(0, space), payload: text.slice(space + 1).trim(), options }
}

/** Parses a payload typed as JSON; the tagged forms (`{"__datetime__": ...}`, PROTOCOL.md section 5) become their values. */
export function parsePayload (text: string): unknown {
  if (text === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Error(`the payload is not JSON: ${(err as Error).message}`)
  }
  return reviveJson(value, { maxDepth: 64, bigint: true })
}

/** The closest names (by edit distance), for "did you mean". */
function closest (name: string, candidates: Iterable<string>): string[] {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
      row = next
    }
    return row[b.length] as number
  }
  return [...candidates].map((c) => [c, distance(name, c)] as const).filter(([c, d]) => d <= Math.max(2, name.length / 3) || c.startsWith(name)).sort((a, b) => a[1] - b[1]).map(([c]) => c).slice(0, 3)
}

/** A JSON template of a schema's values: required properties, the smallest valid numbers, first choices. */
export function template (schema: TSchema | undefined, depth = 0): unknown {
  const s = schema as (TSchema & Record<string, unknown>) | undefined
  if (s === undefined || depth > 8) return null
  if (s.default !== undefined && typeof s.default !== 'object') return s.default
  switch (s[Kind]) {
    case 'String': return 'x'.repeat(typeof s.minLength === 'number' && s.minLength <= 16 ? s.minLength : 0)
    case 'Number': case 'Integer': return typeof s.minimum === 'number' ? s.minimum : 0
    case 'Boolean': return false
    case 'Literal': return s.const
    case 'Array': return Array.from({ length: typeof s.minItems === 'number' && s.minItems <= 4 ? s.minItems : 0 }, () => template(s.items as TSchema, depth + 1))
    case 'Tuple': return ((s.items ?? []) as TSchema[]).map((item) => template(item, depth + 1))
    case 'Union': return template((s.anyOf as TSchema[])[0], depth + 1)
    case 'Date': return { __datetime__: new Date(0).toISOString() }
    case 'Uint8Array': return { __bytes__: '' }
    case 'WireboxNdArray': return { __ndarray__: '', dtype: s.dtype, shape: [0] }
    case 'Object': {
      const required = new Set((s.required ?? []) as string[])
      const properties = Object.entries((s.properties ?? {}) as Record<string, TSchema & Record<symbol, unknown>>)
        .filter(([name, p]) => required.has(name) && p[OptionalKind] !== 'Optional')
      return Object.fromEntries(properties.map(([name, p]) => [name, template(p, depth + 1)]))
    }
    default: return null
  }
}

function knownName (session: ConsoleSession, kind: 'event' | 'request', name: string): boolean {
  const names = kind === 'event' ? session.eventNames() : session.requestNames()
  if (name === '') {
    session.fail(`${kind}: which one? ${names.length === 0 ? '' : `(${names.join(', ')})`}`)
    return false
  }
  if (session.protocol === undefined || !session.validate || names.includes(name)) return true
  const near = closest(name, names)
  session.fail(`unknown ${kind} "${name}"${near.length === 0 ? '' : ` (did you mean ${near.join(', ')}?)`}`)
  return false
}

function payloadOf (session: ConsoleSession, text: string, schema: TSchema | undefined): { ok: true, payload: unknown } | { ok: false } {
  try {
    const payload = parsePayload(text)
    if (payload === undefined && schema !== undefined && !acceptsUndefined(schema) && session.validate) {
      session.fail(`a payload is needed, like ${JSON.stringify(template(schema))}`)
      return { ok: false }
    }
    return { ok: true, payload }
  } catch (err) {
    session.fail((err as Error).message)
    return { ok: false }
  }
}

const timeoutOf = (options: Map<string, string | true>): number | undefined => {
  const t = options.get('timeout')
  return typeof t === 'string' ? Number(t) : undefined
}

/** The console's commands by name. */
const COMMANDS: Record<string, Command> = {
  request: {
    usage: 'request <name> [json] [--timeout ms]',
    summary: 'send a request and print its response or error, with the round trip',
    aliases: ['req', 'r'],
    names: (session) => session.requestNames(),
    run: async (session, rest) => {
      const { name, payload: text, options } = splitArguments(rest)
      if (!knownName(session, 'request', name)) return false
      const parsed = payloadOf(session, text, session.protocol?.requests?.[name]?.payload)
      return parsed.ok && await session.request(name, parsed.payload, timeoutOf(options))
    }
  },
  send: {
    usage: 'send <event> [json] [--ack] [--priority]',
    summary: 'send an event (--ack: wait for the server\'s ACK, version 3)',
    aliases: ['s'],
    names: (session) => session.eventNames(),
    run: async (session, rest) => {
      const { name, payload: text, options } = splitArguments(rest)
      if (!knownName(session, 'event', name)) return false
      const parsed = payloadOf(session, text, protocolTables(session.protocol).fromClient.get(name))
      return parsed.ok && await session.send(name, parsed.payload, { ack: options.has('ack'), priority: options.has('priority') })
    }
  },
  subscribe: {
    usage: 'subscribe <topic>',
    summary: 'subscribe to a topic (gaps in its seq are shown, also across reconnections)',
    aliases: ['sub'],
    names: (session) => [...session.topicsSeen],
    run: async (session, rest) => {
      if (rest.trim() === '') {
        session.fail('subscribe: which topic?')
        return false
      }
      return await session.subscribe(rest.trim())
    }
  },
  unsubscribe: {
    usage: 'unsubscribe <topic>',
    summary: 'unsubscribe from a topic',
    aliases: ['unsub'],
    names: (session) => [...session.subscriptions],
    run: async (session, rest) => await session.unsubscribe(rest.trim())
  },
  ping: {
    usage: 'ping',
    summary: 'a round trip through the server (an UNSUBSCRIBE of an unused topic and its ACK)',
    run: async (session) => await session.ping()
  },
  wait: {
    usage: 'wait <ms> | wait <event> [timeout ms]',
    summary: 'pause, or wait until an event of that name arrived (since the last wait for it)',
    names: (session) => session.eventNames(),
    run: async (session, rest) => {
      const [what = '', timeout] = rest.trim().split(/\s+/)
      if (/^\d+$/.test(what)) {
        await new Promise((resolve) => setTimeout(resolve, Number(what)))
        return true
      }
      if (what === '') {
        session.fail('wait: a number of ms or an event name')
        return false
      }
      return await session.waitFor(what, timeout === undefined ? undefined : Number(timeout))
    }
  },
  status: {
    usage: 'status',
    summary: 'connection state, negotiation, subscriptions and traffic',
    run: async (session) => {
      session.status()
      return true
    }
  },
  help: {
    usage: 'help',
    summary: 'this list',
    run: async (session) => {
      session.print(helpText())
      return true
    }
  },
  quit: {
    usage: 'quit',
    summary: 'close the connection and leave (also exit, Ctrl-D)',
    aliases: ['exit'],
    run: async (session) => {
      session.quit()
      return true
    }
  }
}

const ALIASES = new Map<string, string>(Object.entries(COMMANDS).flatMap(([name, c]) => [[name, name], ...(c.aliases ?? []).map((a) => [a, name] as [string, string])]))

/** The console's help text. */
function helpText (): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length))
  return [
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Payloads are JSON; Dates, bytes and typed arrays in their tagged forms ({"__datetime__": "..."}).',
    'Tab completes commands, event and request names, topics, and a payload template after a name.'
  ].join('\n')
}

/** Runs one line; true when it succeeded (an empty line or a # comment does nothing). */
export async function runLine (session: ConsoleSession, line: string): Promise<boolean> {
  const text = line.trim()
  if (text === '' || text.startsWith('#')) return true
  const space = text.search(/\s/)
  const word = space === -1 ? text : text.slice(0, space)
  const command = ALIASES.get(word)
  if (command === undefined) {
    const near = closest(word, ALIASES.keys())
    session.fail(`unknown command "${word}"${near.length === 0 ? '' : ` (did you mean ${near.join(', ')}?)`}; help lists them`)
    return false
  }
  try {
    return await (COMMANDS[command] as Command).run(session, space === -1 ? '' : text.slice(space + 1))
  } catch (err) {
    session.fail((err as Error).message)
    return false
  }
}

/** Readline's completer: command names, then names and topics, then a payload template. */
export function complete (session: ConsoleSession, line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/)
  if (words.length <= 1) {
    const word = words[0] ?? ''
    const hits = Object.keys(COMMANDS).filter((c) => c.startsWith(word)).map((c) => `${c} `)
    return [hits, word]
  }
  const command = ALIASES.get(words[0] as string)
  const spec = command === undefined ? undefined : COMMANDS[command]
  if (spec?.names === undefined) return [[], line]
  const options = words.slice(1).filter((w) => w.startsWith('--'))
  const args = words.slice(1).filter((w) => !w.startsWith('--'))
  if (args.length <= 1) {
    const word = args[0] ?? ''
    return [spec.names(session).filter((n) => n.startsWith(word)).sort().map((n) => `${n} `), word]
  }
  if (args.length === 2 && args[1] === '' && options.length === 0 && (command === 'request' || command === 'send')) {
    const name = args[0] as string
    const schema = command === 'request' ? session.protocol?.requests?.[name]?.payload : protocolTables(session.protocol).fromClient.get(name)
    if (schema !== undefined && !acceptsUndefined(schema)) return [[JSON.stringify(template(schema))], '']
  }
  return [[], line]
}
