/**
 * `wirebox connect <url>`: a console client on the typed client (fastify-wirebox/client). It
 * negotiates, prints every message both ways from a trace of the wire (connect-trace.ts), sends
 * events and requests typed as JSON (checked against a protocol module when one is given),
 * subscribes, and reconnects like the client, showing gaps in each topic's seq. Interactive with
 * history and Tab completion on a terminal; `--exec` runs commands from the arguments or stdin.
 */
import { createInterface } from 'node:readline'
import type { Interface } from 'node:readline'
import { appendFileSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { createClient, WireboxRemoteError } from '../client/node.js'
import type { WebSocketClass, WireboxClient } from '../client/node.js'
import { MessageType, messageTypeName } from '../core/constants.js'
import { protocolTables } from '../protocol-tables.js'
import type { ProtocolDefinition } from '../protocol.js'
import { compileLayout } from '../core/compact/layout.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import { flagNames, jsonReplacer } from './inspect.js'
import { loadProtocol, UsageError } from './load.js'
import { parseOptions } from './connect-options.js'
import type { ConnectValues, SessionOptions } from './connect-options.js'
import { complete, runLine } from './connect-commands.js'
import { WireTrace } from './connect-trace.js'
import type { TraceEntry } from './connect-trace.js'

/** Where the console reads and writes. */
export interface ConsoleStreams {
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: unknown }
  stdout?: NodeJS.WritableStream & { isTTY?: boolean }
  env?: Record<string, string | undefined>
}

const bytes = (n: number): string => n < 10_240 ? `${n} B` : n < 10_485_760 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1_048_576).toFixed(1)} MiB`

/** A connected console: the client, its wire trace, and the state the commands share. */
export class ConsoleSession {
  readonly client: WireboxClient
  readonly trace: WireTrace
  readonly protocol: ProtocolDefinition | undefined
  readonly validate: boolean
  readonly timeoutMs: number
  /** Topics subscribed now, and every topic named this session (for completion). */
  readonly subscriptions = new Set<string>()
  readonly topicsSeen = new Set<string>()
  readonly #eventsSeen = new Set<string>()
  readonly #lastSeq = new Map<string, number>()
  /** Events of each name that arrived since the last `wait` for that name. */
  readonly #arrived = new Map<string, number>()
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #write: (text: string, error: boolean) => void
  readonly #maxChars: number
  readonly #asked: string
  #wasOpen = false
  #quit: () => void = () => {}
  /** Resolves when `quit` runs. */
  readonly quitting = new Promise<void>((resolve) => { this.#quit = resolve })

  constructor (url: string, options: SessionOptions & { protocol?: ProtocolDefinition }, write: (text: string, error: boolean) => void) {
    this.protocol = options.protocol
    this.validate = options.validate
    this.timeoutMs = options.timeoutMs
    this.#write = write
    this.#maxChars = options.maxChars
    this.#asked = `${options.encoding}, version ${options.version}, ${options.compression}`
    const layout = options.encoding === 'msgpack-compact' && options.protocol !== undefined ? compileLayout(options.protocol) : undefined
    this.trace = new WireTrace((entry) => this.#onEntry(entry), (err) => this.fail(`a frame the console could not decode: ${err.message}`), layout)
    const Base = (globalThis as { WebSocket?: WebSocketClass }).WebSocket ?? (WebSocket as unknown as WebSocketClass)
    this.client = createClient(url, {
      encoding: options.encoding,
      compression: options.compression,
      version: options.version,
      requestTimeoutMs: options.timeoutMs,
      ackTimeoutMs: options.timeoutMs,
      validateOutgoing: options.validate,
      validateIncoming: options.protocol !== undefined && options.validate,
      query: options.query,
      codec: { bigint: true },
      reconnect: options.reconnect ? {} : false,
      WebSocket: this.trace.socketClass(Base),
      ...(options.protocol === undefined ? {} : { protocol: options.protocol as never })
    })
    this.client.onStateChange((state) => {
      if (state === 'open') {
        this.print(`${this.#wasOpen ? 'reconnected' : 'connected'}: ${this.describeNegotiation(this.client.negotiation)}`)
        this.#wasOpen = true
      } else if (state === 'reconnecting') {
        this.print(this.#wasOpen ? 'connection lost: reconnecting (subscriptions resume after their last seq)' : 'could not connect: retrying')
      } else if (state === 'closed') {
        this.print('closed')
      }
    })
    this.client.onError((err) => this.fail(describeError(err)))
  }

  /** Prints a line. */
  print (text: string): void {
    this.#write(text, false)
  }

  /** Prints a failure. */
  fail (text: string): void {
    this.#write(`✗ ${text}`, true)
  }

  /** Event names: the protocol's, and those seen. */
  eventNames (): string[] {
    return [...new Set([...protocolTables(this.protocol).events.keys(), ...this.#eventsSeen])]
  }

  /** Request names of the protocol. */
  requestNames (): string[] {
    return Object.keys(this.protocol?.requests ?? {})
  }

  /** What the server chose, and what was asked when it differs. */
  describeNegotiation (n: Negotiation | undefined): string {
    if (n === undefined) return '(no negotiation)'
    const got = `${n.encoding}, version ${n.version}, ${n.compression}`
    return [
      `${got}${got === this.#asked ? '' : ` (asked ${this.#asked})`}`,
      n.compression === 'none' ? undefined : `compression above ${bytes(n.compression_threshold)}`,
      `max message ${bytes(n.max_message_size)}`,
      n.chunk_size === undefined ? undefined : `chunks of ${bytes(n.chunk_size)}`,
      `heartbeat ${n.heartbeat_interval_ms} ms`,
      `session ${n.session_id}`
    ].filter((s) => s !== undefined).join(', ')
  }

  #onEntry (entry: TraceEntry): void {
    const e = entry.envelope
    const typeName = messageTypeName(entry.type) ?? `0x${entry.type.toString(16)}`
    if (entry.type === MessageType.PROTOCOL_NEGOTIATION) return // the state line says it
    const parts: string[] = [`${entry.direction === 'in' ? '←' : '→'} ${typeName}`]
    const payload = e?.payload as Record<string, unknown> | undefined
    if (entry.type === MessageType.EVENT || entry.type === MessageType.REQUEST || entry.type === MessageType.RESPONSE) parts.push(String(e?.event_type))
    if (entry.type === MessageType.ERROR) parts.push(`0x${Number(payload?.code).toString(16)}`)
    if (e?.topic !== undefined) parts.push(`topic ${e.topic}`)
    if (e?.seq !== undefined) parts.push(`seq ${e.seq}`)
    if (e?.id !== undefined) parts.push(`id ${e.id}`)
    const flags = flagNames(entry.flags).join('|')
    if (flags !== '') parts.push(flags)
    const facts = [`${bytes(entry.wireBytes)}${entry.frames > 1 ? ` in ${entry.frames} frames` : ''} on the wire`, `${bytes(entry.bodyBytes)} body`]
    if (entry.roundTripMs !== undefined) facts.unshift(`after ${entry.roundTripMs.toFixed(1)} ms`)
    else if (entry.direction === 'in' && entry.type === MessageType.EVENT && e !== undefined) facts.unshift(`age ${Date.now() - e.timestamp} ms`)
    const body = entry.type === MessageType.PING || entry.type === MessageType.PONG || entry.type === MessageType.ACK ? '' : ` ${this.format(e?.payload)}`
    this.print(`${parts.join(' ')} (${facts.join(', ')})${body}`)
    if (entry.direction === 'in' && entry.type === MessageType.SUBSCRIPTION_ACK && payload?.recovered === false) {
      this.fail(`${String(payload.topic)}: history no longer reaches back to the last seq seen; it starts at ${String(payload.first_seq ?? '?')}`)
    }
    if (entry.direction === 'in' && entry.type === MessageType.EVENT && e !== undefined) this.#onEvent(e.event_type, e.topic, e.seq)
  }

  #onEvent (name: string, topic: string | undefined, seq: number | undefined): void {
    this.#eventsSeen.add(name)
    if (topic !== undefined && seq !== undefined) {
      const last = this.#lastSeq.get(topic)
      if (last !== undefined && seq > last + 1) this.fail(`gap on ${topic}: seq ${last + 1}${seq - 1 > last + 1 ? ` to ${seq - 1}` : ''} missed (${seq - last - 1})`)
      if (last !== undefined && seq <= last) this.print(`seq on ${topic} went from ${last} back to ${seq} (a replay, or the topic restarted)`)
      this.#lastSeq.set(topic, seq)
    }
    this.#arrived.set(name, (this.#arrived.get(name) ?? 0) + 1)
    for (const resolve of this.#waiters.get(name) ?? []) resolve()
  }

  /** A value as one line of JSON, cut unless --full. */
  format (value: unknown): string {
    const text = value === undefined ? '(no payload)' : JSON.stringify(value, jsonReplacer) ?? String(value)
    return this.#maxChars > 0 && text.length > this.#maxChars ? `${text.slice(0, this.#maxChars)}… (${text.length} characters)` : text
  }

  async #call (what: string, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run()
      return true
    } catch (err) {
      // The trace has shown an ERROR from the server already; say which call it failed.
      this.fail(`${what}: ${err instanceof WireboxRemoteError ? `failed (ERROR 0x${err.wireCode.toString(16)}${err.code === undefined ? '' : ` ${err.code}`})` : describeError(err)}`)
      return false
    } finally {
      await this.trace.idle()
    }
  }

  async request (name: string, payload: unknown, timeoutMs?: number): Promise<boolean> {
    return await this.#call(name, async () => await this.client.request(name as never, payload as never, timeoutMs === undefined ? {} : { timeoutMs }))
  }

  async send (name: string, payload: unknown, options: { ack: boolean, priority: boolean }): Promise<boolean> {
    return await this.#call(name, async () => { await this.client.send(name as never, payload as never, options) })
  }

  async subscribe (topic: string): Promise<boolean> {
    this.topicsSeen.add(topic)
    const ok = await this.#call(`subscribe ${topic}`, async () => await this.client.subscribe(topic))
    if (ok) this.subscriptions.add(topic)
    return ok
  }

  async unsubscribe (topic: string): Promise<boolean> {
    const ok = await this.#call(`unsubscribe ${topic}`, async () => await this.client.unsubscribe(topic))
    if (ok) {
      this.subscriptions.delete(topic)
      this.#lastSeq.delete(topic)
    }
    return ok
  }

  async ping (): Promise<boolean> {
    // The client has no ping of its own: an UNSUBSCRIBE of a topic nobody uses is answered at once.
    const started = performance.now()
    const ok = await this.#call('ping', async () => await this.client.unsubscribe('$wirebox-console/ping'))
    if (ok) this.print(`pong: ${(performance.now() - started).toFixed(1)} ms round trip`)
    return ok
  }

  /** Resolves true once an event of that name has arrived since the last wait for it; false after the timeout. */
  async waitFor (name: string, timeoutMs = this.timeoutMs): Promise<boolean> {
    const take = (): boolean => {
      const n = this.#arrived.get(name) ?? 0
      if (n > 0) this.#arrived.set(name, 0)
      return n > 0
    }
    if (take()) return true
    let set = this.#waiters.get(name)
    if (set === undefined) this.#waiters.set(name, set = new Set())
    const waiters = set
    let done: () => void = () => {}
    const arrived = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      done = () => { clearTimeout(timer); resolve(true) }
      waiters.add(done)
    })
    waiters.delete(done)
    if (arrived) take()
    else this.fail(`no ${name} within ${timeoutMs} ms`)
    return arrived
  }

  status (): void {
    const s = this.client.stats
    this.print([
      `state ${this.client.state}: ${this.describeNegotiation(this.client.negotiation)}`,
      `subscriptions: ${[...this.subscriptions].map((t) => `${t} (last seq ${this.client.lastSeq(t) ?? 'none'})`).join(', ') || 'none'}`,
      `in: ${s.messagesIn} messages, ${bytes(s.wireBytesIn)} on the wire, ${bytes(s.bodyBytesIn)} of bodies`,
      `out: ${s.messagesOut} messages, ${bytes(s.wireBytesOut)} on the wire, ${bytes(s.bodyBytesOut)} of bodies`
    ].join('\n'))
  }

  quit (): void {
    this.#quit()
  }
}

function describeError (err: unknown): string {
  if (err instanceof WireboxRemoteError) {
    return `ERROR 0x${err.wireCode.toString(16)}${err.code === undefined ? '' : ` ${err.code}`} ${err.message}${err.details === undefined ? '' : ` ${JSON.stringify(err.details)}`}`
  }
  const e = err as Error & { code?: string }
  return e.code === undefined ? e.message : `${e.code}: ${e.message}`
}

/** Runs `wirebox connect`; resolves to the exit code. */
export async function connect (values: ConnectValues, positionals: string[], io: ConsoleStreams & { out: (s: string) => void, err: (s: string) => void }): Promise<number> {
  const [url, ...commands] = positionals
  if (url === undefined || !/^wss?:\/\//.test(url)) throw new UsageError(`connect: ${url === undefined ? 'which URL?' : `${url} is not a ws:// or wss:// URL`}`)
  if (commands.length > 0 && values.exec !== true) throw new UsageError('connect: commands after the URL need --exec')
  const options = parseOptions(values)
  const stdin = io.stdin ?? process.stdin
  const stdout = io.stdout ?? process.stdout
  const env = io.env ?? process.env
  const interactive = values.exec !== true && stdin.isTTY === true
  let loaded: Awaited<ReturnType<typeof loadProtocol>> | undefined
  if (values.protocol !== undefined) loaded = await loadProtocol(values.protocol, values.export)
  else if (values.export !== undefined) throw new UsageError('connect: --export needs --protocol')

  let rl: Interface | undefined
  const write = (text: string, error: boolean): void => {
    if (rl === undefined) return error ? io.err(`${text}\n`) : io.out(`${text}\n`)
    // Above the prompt, which is drawn again with what was being typed.
    stdout.write('\r\x1b[K')
    ;(error ? io.err : io.out)(`${text}\n`)
    rl.prompt(true)
  }
  const session = new ConsoleSession(url, { ...options, ...(loaded === undefined ? {} : { protocol: loaded.protocol }) }, write)
  if (loaded !== undefined) {
    session.print(`protocol ${values.protocol as string}#${loaded.name}: events ${[...protocolTables(loaded.protocol).events.keys()].join(', ') || 'none'}; requests ${Object.keys(loaded.protocol.requests ?? {}).join(', ') || 'none'}`)
  }
  try {
    if (!interactive) return await runScript(session, commands, stdin)
    session.print(`connecting to ${url} (help lists the commands, Tab completes)`)
    rl = createInterface({
      input: stdin,
      output: stdout,
      terminal: true,
      prompt: 'wirebox> ',
      historySize: 1000,
      history: readHistory(env),
      completer: (line: string) => complete(session, line)
    })
    const history = historyFile(env)
    rl.on('history', (lines: string[]) => {
      if (history !== undefined && lines[0] !== undefined) {
        try { appendFileSync(history, `${lines[0]}\n`) } catch {}
      }
    })
    rl.on('line', (line) => {
      runLine(session, line).catch(() => {})
      rl?.prompt()
    })
    rl.on('SIGINT', () => {
      if (rl?.line === '') session.quit()
      else rl?.write(null, { ctrl: true, name: 'u' })
    })
    rl.on('close', () => session.quit())
    rl.prompt()
    await session.quitting
    return 0
  } finally {
    const open = rl
    rl = undefined
    open?.close()
    session.client.close()
  }
}

async function runScript (session: ConsoleSession, commands: string[], stdin: NodeJS.ReadableStream): Promise<number> {
  try {
    await Promise.race([
      session.client.ready(),
      new Promise((resolve, reject) => setTimeout(() => reject(new Error(`no connection within ${session.timeoutMs} ms`)), session.timeoutMs).unref())
    ])
  } catch (err) {
    session.fail(`could not connect to ${session.client.url}: ${(err as Error).message}`)
    return 1
  }
  let failed = 0
  let quit = false
  session.quitting.then(() => { quit = true }, () => {})
  const run = async (line: string): Promise<void> => {
    if (!await runLine(session, line)) failed++
    await Promise.resolve() // let a quit settle before the next line
  }
  if (commands.length > 0) {
    for (const line of commands) {
      if (quit) break
      await run(line)
    }
  } else {
    for await (const line of createInterface({ input: stdin, terminal: false })) {
      if (quit) break
      await run(line)
    }
  }
  return failed === 0 ? 0 : 1
}

function historyFile (env: Record<string, string | undefined>): string | undefined {
  const file = env.WIREBOX_HISTORY ?? join(homedir(), '.wirebox_history')
  return file === '' ? undefined : file
}

function readHistory (env: Record<string, string | undefined>): string[] {
  const file = historyFile(env)
  if (file === undefined) return []
  try {
    // Readline wants the newest first.
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-1000).reverse()
  } catch {
    return []
  }
}
