/**
 * `wirebox connect` driven as a user would: bin/wirebox.js in a child process against the ECG
 * example, with --exec from arguments and from stdin, interactively in a pseudo terminal
 * (util-linux `script`), and across a reconnection that loses messages.
 */
import { test } from 'tap'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { buildServer } from '../example/server.js'
import { main } from '../lib/cli/main.js'
import { splitArguments, parsePayload, template, complete } from '../lib/cli/connect-commands.js'
import wirebox, { defineProtocol, memoryBroker } from '../lib/index.js'
import { protocol } from '../example/protocol.js'
import { listen, shutdown } from './plugin/test-client.js'
import type { ConsoleSession } from '../lib/cli/connect.js'

const root = new URL('..', import.meta.url).pathname
// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')

/** A running `wirebox` child: what it printed so far, waits on it, and its exit. */
function wireboxChild (command: string, args: string[], env: Record<string, string> = {}): {
  output: () => string
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>
  write: (text: string) => void
  end: () => void
  exit: Promise<number | null>
} {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, WIREBOX_HISTORY: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  const listeners = new Set<() => void>()
  const add = (chunk: Buffer): void => {
    out += chunk.toString('utf8')
    for (const listener of listeners) listener()
  }
  child.stdout.on('data', add)
  child.stderr.on('data', add)
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  exit.finally(() => clearTimeout(killer)).catch(() => {})
  return {
    output: () => plain(out),
    write: (text) => { child.stdin.write(text) },
    end: () => { child.stdin.end() },
    exit,
    waitFor: async (pattern, timeoutMs = 30_000) => await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(plain(out))) return
        listeners.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; output:\n${plain(out)}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })
  }
}

const connectArgs = (url: string, ...rest: string[]): string[] => ['bin/wirebox.js', 'connect', url, '--protocol', 'example/protocol.ts', ...rest]

test('command parsing, payloads, templates and completion', async (t) => {
  t.same(splitArguments('ecg.annotation {"note": "a b"} --ack'), { name: 'ecg.annotation', payload: '{"note": "a b"}', options: new Map([['ack', true]]) })
  t.same(splitArguments('--priority --ack x'), { name: 'x', payload: '', options: new Map<string, string | true>([['priority', true], ['ack', true]]) })
  t.same(splitArguments('ecg.history {} --timeout 50'), { name: 'ecg.history', payload: '{}', options: new Map([['timeout', '50']]) })
  const revived = parsePayload('{"at": {"__datetime__": "2024-01-02T03:04:05.000Z"}, "raw": {"__bytes__": "AQI="}}') as { at: Date, raw: Uint8Array }
  t.ok(revived.at instanceof Date && revived.at.getTime() === Date.UTC(2024, 0, 2, 3, 4, 5))
  t.same([...revived.raw], [1, 2])
  t.throws(() => parsePayload('{nope'), /not JSON/)
  t.equal(parsePayload(''), undefined)
  t.same(template(protocol.requests['ecg.history'].payload), { patient_id: 'x', samples: 1 })
  t.same(template(Type.Object({ a: Type.Optional(Type.String()), b: Type.Tuple([Type.Literal('k'), Type.Boolean()]) })), { b: ['k', false] })
  const session = {
    protocol,
    eventNames: () => [...Object.keys(protocol.serverToClient), ...Object.keys(protocol.clientToServer)],
    requestNames: () => Object.keys(protocol.requests),
    topicsSeen: new Set(['ecg/p1']),
    subscriptions: new Set<string>()
  } as unknown as ConsoleSession
  t.same(complete(session, 're'), [['request '], 're'])
  t.same(complete(session, 'send ecg.an'), [['ecg.annotation '], 'ecg.an'])
  t.same(complete(session, 'request ecg.history '), [['{"patient_id":"x","samples":1}'], ''])
  t.same(complete(session, 'sub ec'), [['ecg/p1 '], 'ec'])
})

test('usage errors exit 2 before connecting; an unreachable server exits 1', async (t) => {
  const run = async (args: string[]): Promise<{ code: number, err: string }> => {
    let err = ''
    const code = await main(args, () => {}, (s) => { err += s })
    return { code, err }
  }
  t.match(await run(['connect']), { code: 2, err: /which URL/ })
  t.match(await run(['connect', 'http://x']), { code: 2, err: /not a ws:\/\/ or wss:\/\/ URL/ })
  t.match(await run(['connect', 'ws://x/ws', '--encoding', 'xml']), { code: 2, err: /messagepack, msgpack-compact or json/ })
  const compact = await run(['connect', 'ws://x/ws', '--encoding', 'msgpack-compact', '--exec', 'ping'])
  t.equal(compact.code, 2, 'msgpack-compact without a protocol: a usage error, before connecting')
  t.match(compact.err, /^wirebox: connect: --encoding msgpack-compact needs --protocol <file> \(its layout is compiled from the protocol's schemas\)\n/)
  t.match(await run(['connect', 'ws://x/ws', '--protocol', 'example/protocol.ts', '--encoding', 'msgpack-compact', '--version', '2']), { code: 2, err: /msgpack-compact needs --version 3/ })
  t.match(await run(['connect', 'ws://x/ws', '--version', '4']), { code: 2, err: /1, 2 or 3/ })
  t.match(await run(['connect', 'ws://x/ws', 'ping']), { code: 2, err: /need --exec/ })
  t.match(await run(['connect', 'ws://x/ws', '--export', 'protocol']), { code: 2, err: /--export needs --protocol/ })
  const unreachable = await run(['connect', 'ws://127.0.0.1:9/ws', '--exec', '--timeout', '700', 'ping'])
  t.equal(unreachable.code, 1)
  t.match(unreachable.err, /could not connect to ws:\/\/127\.0\.0\.1:9\/ws: no connection within 700 ms/)
})

test('--exec with commands as arguments: requests, events, topics; exit 1 when one failed', async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const ok = wireboxChild(process.execPath, connectArgs(`${base}/ws`, '--encoding', 'json', '--compression', 'deflate', '--version', '2', '--exec',
    'request ecg.history {"patient_id":"p1","samples":3}',
    'subscribe ecg/p1',
    'wait ecg.data',
    'send anomaly.seen {"patient_id":"p1","seq":1}',
    'request ecg.annotate {"patient_id":"p1","note":"noted"}',
    'wait ecg.annotation',
    'ping',
    'unsubscribe ecg/p1'))
  t.equal(await ok.exit, 0, ok.output())
  const out = ok.output()
  t.match(out, /connected: json, version 2, deflate \(asked json, version 2, deflate\)|connected: json, version 2, deflate, /)
  t.match(out, /→ REQUEST ecg\.history id \d+ \(\d+ B on the wire, \d+ B body\) \{"patient_id":"p1","samples":3\}/)
  t.match(out, /← RESPONSE ecg\.history id \d+ \(after \d+\.\d ms, \d+ B on the wire, \d+ B body\) \{"patient_id":"p1","sampling_rate":250,"signal":\[[^\]]+\]\}/)
  t.match(out, /← SUBSCRIPTION_ACK id \d+ \(after [\d.]+ ms, .*\) \{"topic":"ecg\/p1","seq":\d+\}/)
  t.match(out, /← EVENT ecg\.data topic ecg\/p1 seq \d+ BROADCAST \(age \d+ ms, \d+ B on the wire, \d+ B body\) \{"patient_id":"p1"/)
  t.match(out, /→ EVENT anomaly\.seen \(/)
  t.match(out, /← EVENT ecg\.annotation topic ecg\/p1 seq \d+ BROADCAST .*"note":"noted"/)
  t.match(out, /pong: [\d.]+ ms round trip/)
  t.match(out, /closed/)

  const failing = wireboxChild(process.execPath, connectArgs(`${base}/ws`, '--exec',
    'request ecg.histroy {"patient_id":"p1","samples":3}',
    'request ecg.history {"patient_id":"p1","samples":0}',
    'request ecg.history {"patient_id":"p1","samples":0}',
    'send ecg.annotation {"patient_id":"p1","note":"mine"}',
    'request ecg.history {"patient_id":"p1","samples":2}'))
  t.equal(await failing.exit, 1, 'a failed request: exit code 1')
  const bad = failing.output()
  t.match(bad, /✗ unknown request "ecg\.histroy" \(did you mean ecg\.history\?\)/)
  t.match(bad, /✗ ecg\.history: WIREBOX_ERR_INVALID_PAYLOAD: .*\/payload\/samples/, 'validated before sending')
  t.match(bad, /✗ .*WIREBOX_ERR_WRONG_DIRECTION: Event "ecg\.annotation" is sent only by the server; a client may not send it/, 'a server event is not sent')
  t.match(bad, /← RESPONSE ecg\.history .*"signal":\[[^,\]]+,[^,\]]+\]/, 'the next commands still run')

  const unchecked = wireboxChild(process.execPath, connectArgs(`${base}/ws`, '--no-validate', '--exec', 'request ecg.history {"patient_id":"p1","samples":0}'))
  t.equal(await unchecked.exit, 1)
  t.match(unchecked.output(), /← ERROR 0x200 id \d+ \(after [\d.]+ ms, .*\) \{"code":512,"error":"WIREBOX_ERR_INVALID_PAYLOAD","message":"Invalid payload.*\/payload\/samples/, 'the server\'s ERROR, shown')
  t.match(unchecked.output(), /✗ ecg\.history: failed \(ERROR 0x200 WIREBOX_ERR_INVALID_PAYLOAD\)/, 'the failed call names the catalog error')
})

test('--encoding msgpack-compact with --protocol: requests, topic events and events sent, read with the layout', async (t) => {
  const app = await buildServer({ logger: false, batchIntervalMs: 50 })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const child = wireboxChild(process.execPath, connectArgs(`${base}/ws`, '--encoding', 'msgpack-compact', '--export', 'protocol', '--exec',
    'request ecg.history {"patient_id":"p1","samples":3}',
    'subscribe ecg/p1',
    'wait ecg.data',
    'request ecg.annotate {"patient_id":"p1","note":"compact"}',
    'wait ecg.annotation'))
  t.equal(await child.exit, 0, child.output())
  const out = child.output()
  t.notMatch(out, /could not decode/, 'the console reads every frame')
  t.match(out, /connected: msgpack-compact, version 3, gzip, /)
  t.match(out, /→ REQUEST ecg\.history id \d+ \(\d+ B on the wire, 8 B body\) \{"patient_id":"p1","samples":3\}/, 'the 8-byte compact body of PROTOCOL.md 9.5')
  t.match(out, /← RESPONSE ecg\.history id \d+ \(after [\d.]+ ms, \d+ B on the wire, \d+ B body\) \{"patient_id":"p1","sampling_rate":250,"signal":\[[^\]]+\]\}/)
  t.match(out, /← EVENT ecg\.data topic ecg\/p1 seq \d+ BROADCAST \(age \d+ ms, .*\) \{"patient_id":"p1","seq":\d+,"sampling_rate":250,"signal":\[/)
  t.match(out, /← EVENT ecg\.annotation topic ecg\/p1 seq \d+ BROADCAST .*"note":"compact"/)
})

test('--exec reads commands from stdin, one per line, and works without a protocol', async (t) => {
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const child = wireboxChild(process.execPath, ['bin/wirebox.js', 'connect', `${base}/ws`, '--compression', 'none', '--exec'])
  child.write('# a comment, then an empty line\n\nrequest ecg.history {"patient_id":"p2","samples":2000}\nsubscribe ecg/p2\nwait anomaly.alert 1\n')
  child.end()
  t.equal(await child.exit, 1, 'the wait that timed out fails the run')
  const out = child.output()
  t.match(out, /connected: messagepack, version 3, none/)
  t.match(out, /← RESPONSE ecg\.history id \d+ \(after [\d.]+ ms, [\d.]+ KiB on the wire/)
  t.match(out, /← SUBSCRIPTION_ACK/)
  t.match(out, /✗ no anomaly\.alert within 1 ms/)
})

test('interactive in a terminal: Tab completes an event name, a request prints its response, history recalls it', async (t) => {
  try {
    execFileSync('script', ['--version'])
  } catch {
    t.fail('util-linux `script` is needed for the terminal test')
    return
  }
  const app = await buildServer({ logger: false })
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  const history = join(mkdtempSync(join(tmpdir(), 'wirebox-history-')), 'history')
  const command = [process.execPath, ...connectArgs(`${base}/ws`)].map((a) => `'${a}'`).join(' ')
  const term = wireboxChild('script', ['-qfec', command, '/dev/null'], { WIREBOX_HISTORY: history, TERM: 'xterm' })
  await term.waitFor(/connected: messagepack, version 3, gzip/)
  term.write('send anomaly.s\t')
  await term.waitFor(/wirebox> send anomaly\.seen $/m)
  term.write('{"patient_id":"p1","seq":1} --ack\r')
  await term.waitFor(/← ACK id \d+ \(after [\d.]+ ms/)
  term.write('request ecg.hi\t')
  await term.waitFor(/wirebox> request ecg\.history $/m)
  term.write('{"patient_id":"p1","samples":4}\r')
  await term.waitFor(/← RESPONSE ecg\.history id (\d+) .*"signal":\[[^\]]+\]/)
  term.write('\x1b[A\r') // the up arrow: the same request again
  await term.waitFor(/← RESPONSE ecg\.history id \d+[\s\S]*← RESPONSE ecg\.history id \d+/)
  term.write('quit\r')
  t.equal(await term.exit, 0, term.output())
  t.same(readFileSync(history, 'utf8').trim().split('\n'), [
    'send anomaly.seen {"patient_id":"p1","seq":1} --ack',
    'request ecg.history {"patient_id":"p1","samples":4}',
    'request ecg.history {"patient_id":"p1","samples":4}',
    'quit'
  ], 'history kept in WIREBOX_HISTORY')
})

test('reconnects like the client and shows what a reconnection lost', async (t) => {
  const ticks = defineProtocol({ events: { tick: Type.Object({ n: Type.Integer() }) } })
  const app = Fastify({ logger: false })
  await app.register(wirebox, { broker: memoryBroker({ historySize: 2 }) })
  app.wirebox('/ws', { protocol: ticks }, () => {})
  const base = await listen(app)
  t.teardown(() => shutdown(app))
  let n = 0
  const publish = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await app.wirebox.publish('ticks', 'tick', { n: ++n })
  }
  const child = wireboxChild(process.execPath, ['bin/wirebox.js', 'connect', `${base}/ws`, '--exec'])
  child.write('subscribe ticks\n')
  await child.waitFor(/← SUBSCRIPTION_ACK .*"topic":"ticks"/)
  await publish(3)
  await child.waitFor(/← EVENT tick topic ticks seq 3 /)
  for (const connection of app.wirebox.connections) connection.socket.terminate()
  await publish(10) // while the console is away: history keeps the last 2
  await child.waitFor(/connection lost: reconnecting/)
  await child.waitFor(/reconnected: /)
  await child.waitFor(/✗ ticks: history no longer reaches back to the last seq seen; it starts at 12/)
  await child.waitFor(/✗ gap on ticks: seq 4 to 11 missed \(8\)/)
  await child.waitFor(/← EVENT tick topic ticks seq 13 /)
  await publish(1)
  await child.waitFor(/← EVENT tick topic ticks seq 14 /)
  child.end()
  t.equal(await child.exit, 0)
  t.match(child.output(), /→ SUBSCRIBE id \d+ \(.*\) \{"topic":"ticks","since":3\}/, 'the client resubscribed after its last seq')
})
