/**
 * The Redis that tests use: REDIS_URL when it is set, else a redis-server of this test process's
 * own on a free port (the binary from PATH: Debian's `apt-get install redis-server`), stopped when
 * the process exits. Without either, a Redis test file fails within seconds with one line saying
 * what is missing. Tests that restart Redis start a server of their own with `startRedisServer`.
 */
import { test } from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'

const NOT_FOUND = 'redis-server not found on PATH'
const INSTALL = 'install Debian\'s redis-server (apt-get install redis-server)'
const READY_TIMEOUT_MS = 5000

/** A redis-server child process on 127.0.0.1. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills it (SIGKILL: everything is lost) and starts it again on the same port after `downMs` (default 0). */
  restart: (downMs?: number) => Promise<void>
  /** Kills it. */
  stop: () => void
}

const running = new Set<ChildProcess>()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Resolves when something on `port` answers PING with PONG; false if not within `ms` (or given up). */
async function answersPing (port: number, ms: number, gaveUp: () => boolean): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end && !gaveUp()) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.setTimeout(500, () => { socket.destroy(); resolve(false) })
      socket.once('error', () => resolve(false))
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (data) => { socket.destroy(); resolve(data.toString().startsWith('+PONG')) })
    })
    if (pong) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

/** Spawns redis-server on `port`; rejects with one line (binary missing, port taken, not ready). */
async function spawnServer (port: number, logFile: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--logfile', logFile], { stdio: 'ignore' })
  child.unref()
  running.add(child)
  child.once('exit', () => running.delete(child))
  let exited = false
  const failed = new Promise<string>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      exited = true
      resolve(err.code === 'ENOENT' ? `${NOT_FOUND}: ${INSTALL}` : `redis-server did not start: ${err.message}`)
    })
    child.once('exit', (code) => {
      exited = true
      let log = ''
      try { log = readFileSync(logFile, 'utf8') } catch {}
      const reason = log.split('\n').filter((line) => line.includes('#')).at(-1)?.replace(/^.*# /, '') ?? `exit code ${String(code)}`
      resolve(`redis-server exited at start: ${reason}`)
    })
  })
  const outcome = await Promise.race([answersPing(port, READY_TIMEOUT_MS, () => exited).then((ready) => ready ? '' : `redis-server did not answer on port ${port} within ${READY_TIMEOUT_MS} ms`), failed])
  if (outcome !== '') {
    child.kill('SIGKILL')
    throw new Error(outcome)
  }
  return child
}

/** Starts a redis-server of its own on a free port (no persistence); rejects with one line. */
export async function startRedisServer (): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wirebox-redis-'))
  const logFile = join(dir, 'redis.log')
  let port = 0
  let child: ChildProcess | undefined
  // Another process may take the free port before redis-server binds it: try a few.
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort()
    try {
      child = await spawnServer(port, logFile)
    } catch (err) {
      if (attempt === 2 || !(err as Error).message.includes('Address already in use')) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
    }
  }
  let current: ChildProcess = child
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async restart (downMs = 0) {
      current.kill('SIGKILL')
      await new Promise((resolve) => current.exitCode === null && current.signalCode === null ? current.once('exit', resolve) : resolve(undefined))
      await new Promise((resolve) => setTimeout(resolve, downMs))
      current = await spawnServer(port, logFile)
    },
    stop () { current.kill('SIGKILL') }
  }
}

/** Where this process's tests find Redis, or the one line that says why they cannot. */
async function locate (): Promise<{ url: string } | { missing: string }> {
  const fromEnv = process.env.REDIS_URL
  if (fromEnv !== undefined && fromEnv !== '') {
    const probe = new Redis(fromEnv, { lazyConnect: true, connectTimeout: 2000, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false })
    let cause: Error | undefined
    probe.on('error', (err: Error) => { cause ??= err })
    try {
      await probe.connect()
      await probe.ping()
      return { url: fromEnv }
    } catch (err) {
      return { missing: `REDIS_URL=${fromEnv} does not answer: ${(cause ?? err as Error).message}` }
    } finally {
      probe.disconnect()
    }
  }
  try {
    return { url: (await startRedisServer()).url }
  } catch (err) {
    const { message } = err as Error
    return { missing: message.startsWith(NOT_FOUND) ? `${NOT_FOUND} and REDIS_URL not set: ${INSTALL} or set REDIS_URL` : message }
  }
}

const located = await locate()
let reported = false

/**
 * Registers a tap test that needs Redis and hands it the URL. Without Redis the file gets one
 * failing test whose message says what is missing, instead of its Redis tests.
 */
export function redisTest (name: string, fn: (t: Test, url: string) => Promise<void>): void {
  if ('url' in located) {
    const url = located.url
    test(name, async (t) => await fn(t, url))
    return
  }
  if (reported) return
  reported = true
  test('Redis for the tests', async (t) => { t.fail(located.missing, { diagnostic: false }) })
}

/** An ioredis client for assertions, with an error handler (ioredis reconnects by itself). */
export function redisClient (url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, ...options })
  client.on('error', () => {})
  return client
}

/** A key prefix of its own for one test. */
export function testPrefix (name = 'test'): string {
  return `wirebox-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
}

/** Deletes every key of a test prefix. */
export async function removeKeys (url: string, prefix: string): Promise<void> {
  const redis = redisClient(url)
  try {
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length > 0) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}
