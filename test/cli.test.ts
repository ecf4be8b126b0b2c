import { test } from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../lib/cli/main.js'
import { inspectFrame } from '../lib/cli/inspect.js'
import { MessageEncoder, MessageType, nodePlatform, Flag } from '../lib/index.js'

const run = async (args: string[]): Promise<{ code: number, out: string, err: string }> => {
  let out = ''
  let err = ''
  const code = await main(args, (s) => { out += s }, (s) => { err += s })
  return { code, out, err }
}

test('`wirebox schema example/protocol.ts --format asyncapi` works from the command line', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/wirebox.js', 'schema', 'example/protocol.ts', '--format', 'asyncapi'], { cwd: new URL('..', import.meta.url).pathname })
  const doc = JSON.parse(stdout)
  t.equal(doc.asyncapi, '3.0.0')
  t.ok(doc.components.messages['request.ecg.history'])
})

test('schema formats, --export, --out, and clear errors', async (t) => {
  const json = await run(['schema', 'example/protocol.ts'])
  t.equal(json.code, 0)
  t.equal(JSON.parse(json.out).$schema, 'https://json-schema.org/draft/2020-12/schema')
  const dts = await run(['schema', 'example/protocol.ts', '--format', 'typescript', '--export', 'protocol'])
  t.match(dts.out, /export interface Requests/)
  const dir = mkdtempSync(join(tmpdir(), 'wirebox-cli-'))
  t.equal((await run(['schema', 'example/protocol.ts', '--format', 'asyncapi', '--out', join(dir, 'a.json')])).code, 0)
  t.equal(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')).asyncapi, '3.0.0')
  const noExport = await run(['schema', 'example/protocol.ts', '--export', 'nope'])
  t.equal(noExport.code, 2)
  t.match(noExport.err, /exports no protocol named nope/)
  t.match((await run(['schema', 'example/protocol.ts', '--format', 'xml'])).err, /unknown format xml/)
  t.match((await run(['schema'])).err, /which module/)
})

const root = new URL('..', import.meta.url).pathname
/** Runs bin/wirebox.js as a user would; a run still going after 60 s is killed and says so. */
const wirebox = async (args: string[]): Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }> =>
  await new Promise((resolve) => {
    execFile(process.execPath, ['bin/wirebox.js', ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number, signal?: string }) | null
      resolve({ code: e === null ? 0 : e.code ?? null, signal: e?.signal ?? null, stdout, stderr })
    })
  })

test('`wirebox schema` on a module that starts a server prints and exits (issue 12)', async (t) => {
  const [withProtocol, without] = await Promise.all([
    wirebox(['schema', 'test/fixtures/server-at-import.ts', '--format', 'typescript']),
    wirebox(['schema', 'test/fixtures/server-no-protocol.ts'])
  ])
  t.equal(withProtocol.signal, null, 'exited by itself')
  t.equal(withProtocol.code, 0)
  t.match(withProtocol.stdout, /export type HelloEvent = \{\n {2}name: string\n\}/)
  t.equal(without.signal, null, 'exited by itself')
  t.equal(without.code, 2)
  t.match(without.stderr, /server-no-protocol\.ts exports no protocol/)
})

test('--version, --help for each command, unknown commands and options', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  const fromBin = await wirebox(['--version'])
  t.equal(fromBin.code, 0)
  t.equal(fromBin.stdout, `${version}\n`)
  t.equal((await run(['-v'])).out, `${version}\n`)
  const unknown = await wirebox(['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /unknown command "frobnicate"/)
  t.match(unknown.stderr, /commands:\n {2}schema/)
  const general = await run(['--help'])
  t.equal(general.code, 0)
  t.match(general.out, /connect <url>/)
  t.equal((await run([])).code, 2, 'no command is a usage error')
  for (const [command, expected] of [['schema', /--format <format>/], ['inspect', /usage: wirebox inspect <hex \| file>/], ['connect', /--exec \[cmd\.\.\.\]/]] as const) {
    for (const flag of ['--help', '-h']) {
      const help = await run([command, flag])
      t.equal(help.code, 0, `${command} ${flag}`)
      t.match(help.out, expected)
      t.match(help.out, new RegExp(`^usage: wirebox ${command} `))
    }
    t.equal((await run(['help', command])).out, (await run([command, '--help'])).out, `help ${command}`)
  }
  const badOption = await run(['schema', 'example/protocol.ts', '--nope'])
  t.equal(badOption.code, 2)
  t.match(badOption.err, /Unknown option '--nope'[\s\S]*wirebox schema --help/)
  t.equal((await run(['help', 'frobnicate'])).code, 2)
})

test('inspect decodes frames: header, flags, checksum, chunk, compression, body', async (t) => {
  const vector = await run(['inspect', 'test/vectors/v3-request-messagepack.hex'])
  t.equal(vector.code, 0)
  t.match(vector.out, /type\s+0x02 REQUEST/)
  t.match(vector.out, /checksum\s+0x[0-9a-f]{8} ok/)
  t.match(vector.out, /"event_type": "ecg.history"/)
  const hex = readFileSync('test/vectors/v3-event-gzip-messagepack.hex', 'utf8').trim()
  const gz = await run(['inspect', hex])
  t.match(gz.out, /flags\s+0x01 COMPRESSED/)
  t.match(gz.out, /compression gzip/)
  t.match(gz.out, /"rows"/)
  const text = await run(['inspect', '{"type":1,"event_type":"x","timestamp":1}'])
  t.match(text.out, /transport\s+text/)
  const broken = Buffer.from(hex, 'hex')
  broken.writeUInt8(broken.at(-1) as number ^ 0xff, broken.length - 1)
  const bad = await run(['inspect', broken.toString('hex')])
  t.equal(bad.code, 1, 'problems give exit code 1')
  t.match(bad.out, /checksum\s+0x[0-9a-f]{8} MISMATCH/)
  t.match((await run(['inspect', 'zz'])).err, /not hex/)
  const dir = mkdtempSync(join(tmpdir(), 'wirebox-inspect-'))
  const [frame] = await new MessageEncoder({ encoding: 'json', version: 2, compression: 'deflate' }, { platform: nodePlatform })
    .encode({ type: MessageType.EVENT, flags: Flag.PRIORITY, envelope: { event_type: 'big', timestamp: 1, payload: { text: 'abc '.repeat(1000) } } })
  writeFileSync(join(dir, 'frame.bin'), frame as Uint8Array)
  const binary = await inspectFrame(readFileSync(join(dir, 'frame.bin')))
  t.match(binary, { header: { version: 2, flagNames: ['COMPRESSED', 'PRIORITY'], checksumOk: true }, compression: 'deflate', encoding: 'json', problems: [] })
  const chunked = await inspectFrame(Buffer.from(readFileSync('test/vectors/v3-event-chunked-messagepack.hex', 'utf8').split('\n')[0] as string, 'hex'))
  t.match(chunked, { chunk: { messageId: 1, index: 0, count: 2 } })
  t.match(chunked.problems[0], /chunk 1 of 2/)
})
