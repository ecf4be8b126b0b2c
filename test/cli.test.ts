import { test } from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../lib/cli/main.js'
import { inspectFrame, formatInspection } from '../lib/cli/inspect.js'
import { MessageEncoder, MessageType, nodePlatform, Flag, createMessagePackCodec, compileLayout } from '../lib/index.js'
import { protocol } from '../example/protocol.js'
import { rawFrame } from './helpers.js'

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

test('inspect reads msgpack-compact frames with --protocol, and by position without', async (t) => {
  const vector = 'test/vectors/compact-event-ecg-data-topic.hex'
  const named = await run(['inspect', vector, '--protocol', 'example/protocol.ts', '--export', 'protocol'])
  t.equal(named.code, 0, named.err)
  t.match(named.out, /body\s+50 bytes, msgpack-compact\n/)
  t.match(named.out, /"event_type": "ecg.data",\s+"timestamp": 1700000000000,\s+"payload": \{\s+"patient_id": "p1",\s+"seq": 7,\s+"sampling_rate": 250,\s+"signal": \[\s+0.125,\s+0.13,\s+0.128,\s+-0.5,\s+1,/)
  t.match(named.out, /"topic": "ecg\/p1",\s+"seq": 7\s+\}/)
  const positional = await run(['inspect', readFileSync(vector, 'utf8').trim()])
  t.equal(positional.code, 0)
  t.match(positional.out, /note\s+a msgpack-compact body, shown by position: --protocol <file> names its event and fields/)
  t.match(positional.out, /^\[\s+0,\s+\[\s+"p1",\s+7,\s+250,\s+\[\s+125,\s+5,\s+-2,\s+-628,\s+1500,/m, 'the delta counts of PROTOCOL.md 9.5')
  const gzip = await run(['inspect', 'test/vectors/compact-response-ecg-history-gzip.hex', '--protocol', 'example/protocol.ts'])
  t.equal(gzip.code, 0, gzip.err)
  t.match(gzip.out, /compression gzip[\s\S]*msgpack-compact[\s\S]*"event_type": "ecg.history"[\s\S]*"sampling_rate": 250/)
  const request = await run(['inspect', 'test/vectors/compact-request-ecg-history.hex', '--protocol', 'example/protocol.ts'])
  t.match(request.out, /"event_type": "ecg.history",[\s\S]*"payload": \{\s+"patient_id": "p1",\s+"samples": 3\s+\},\s+"id": 1/)
  t.match(await run(['inspect', vector, '--export', 'protocol']), { code: 2, err: /--export needs --protocol/ })
  const broken = Buffer.from(readFileSync(vector, 'utf8').trim(), 'hex')
  broken[20] = 0x09 // after the 19-byte header and the array byte: event id 9, not in the layout
  const unknown = await inspectFrame(broken, { layout: compileLayout(protocol) })
  t.match(unknown.problems.join('\n'), /event id "9"/, 'an id outside the layout is a problem of the frame')
})

/** A frame by hand (test/helpers.ts), any header field right or wrong, sent at 2023-11-14T22:13:20Z. */
const frameOf = (version: 1 | 2 | 3, type: number, flags: number, payload: Uint8Array, fields: { length?: number, checksum?: number } = {}): Uint8Array =>
  rawFrame({ version, type, flags, payload, timestamp: 1_700_000_000_000_000n, ...fields })

function chunkPayload (messageId: number, index: number, count: number, data: Uint8Array): Uint8Array {
  const chunk = Buffer.alloc(8 + data.length)
  chunk.writeUInt32BE(messageId, 0)
  chunk.writeUInt16BE(index, 4)
  chunk.writeUInt16BE(count, 6)
  chunk.set(data, 8)
  return chunk
}

test('inspect: every line of the report, and every problem of one frame at once (issue 9)', async (t) => {
  const report = async (input: Uint8Array | string): Promise<string> => formatInspection(await inspectFrame(input))
  t.equal(await report(new Uint8Array(0)), 'transport   binary\nPROBLEM     empty frame')
  t.equal(await report(new Uint8Array([7, 1, 2])), 'transport   binary\nPROBLEM     unknown version byte 0x7')
  t.equal(await report(new Uint8Array([3, 1, 0, 0, 0])), 'transport   binary\nPROBLEM     5 bytes: shorter than the 19-byte header of version 3')
  const header = (lines: string[]): string => ['transport   binary', ...lines].join('\n')
  t.equal(await report(frameOf(3, 0x99, 0xff, new Uint8Array([0xc1]), { length: 99, checksum: 1 })), header([
    'version     3',
    'type        0x99 (unknown)',
    'flags       0xff COMPRESSED | ENCRYPTED | PRIORITY | BROADCAST | ACK_REQUIRED | CHUNKED',
    'length      99',
    'checksum    0x00000001 MISMATCH',
    'timestamp   1700000000000000 µs (2023-11-14T22:13:20.000Z)',
    'PROBLEM     unknown message type 0x99',
    'PROBLEM     reserved flag bits 6-7 are set',
    'PROBLEM     length field says 99 bytes, 1 present',
    'PROBLEM     checksum mismatch: header 0x00000001, payload 0x3e611dab',
    'PROBLEM     CHUNKED, but shorter than the chunk header'
  ]))
  t.equal(await report(frameOf(3, MessageType.PING, 0, new Uint8Array(0))), header([
    'version     3', 'type        0x11 PING', 'flags       0x00 (none)', 'length      0', 'checksum    0x00000000 ok',
    'timestamp   1700000000000000 µs (2023-11-14T22:13:20.000Z)', 'body        0 bytes'
  ]))
  const body = createMessagePackCodec().encode({ event_type: 'x', timestamp: 1, payload: { n: 1 } })
  const single = await report(frameOf(3, MessageType.EVENT, Flag.CHUNKED | Flag.COMPRESSED, chunkPayload(7, 0, 1, gzipSync(body))))
  t.match(single, /\nchunk {7}message 7, 1 of 1, \d+ bytes\ncompression gzip\nbody {8}\d+ bytes, messagepack\n\{\n {2}"event_type": "x",/)
  t.notMatch(single, /PROBLEM/)
  t.match(await report(frameOf(3, MessageType.EVENT, Flag.CHUNKED, chunkPayload(9, 0, 0, body))),
    /\nchunk {7}message 9, 1 of 0, \d+ bytes\nPROBLEM {5}chunk 1 of 0: the body needs every chunk$/)
  t.match(await report(frameOf(2, MessageType.EVENT, Flag.COMPRESSED, new Uint8Array([1, 2, 3, 4]))),
    /\ncompression deflate\nPROBLEM {5}Decompression \(deflate\) failed: /)
  t.match(await report(frameOf(1, MessageType.EVENT, 0, new Uint8Array([0xc1]))),
    /\nchecksum {4}0x[0-9a-f]{8} ok\nbody {8}1 bytes, messagepack\nPROBLEM {5}Malformed MessagePack body: /)
  t.match(await report('{"type":1,'), /^transport {3}text\nbody {8}10 bytes, json\nPROBLEM {5}Malformed JSON body: /)
})
