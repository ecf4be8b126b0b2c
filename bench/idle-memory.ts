/**
 * Heap per idle connection, server and client, against plain ws measured in the same run. Each
 * side runs in its own process; WARM connections first (what every connection's code needs is
 * compiled and loaded once), then N more: the heap those add, per connection, after full GCs.
 * The peer benchmark reads the heap before the first connection instead, so its figures also
 * hold the code compiled and loaded on the way, spread over its connections.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { printTable } from './table.js'

const WARM = Number(process.env.WARM ?? 500)
const N = Number(process.env.N ?? 2000)
const execArgv = ['--import', 'tsx', '--expose-gc']

function start (script: string, args: string[]): ChildProcess {
  return fork(fileURLToPath(new URL(`./idle-memory/${script}`, import.meta.url)), args, { execArgv, stdio: 'inherit' })
}

async function ask<T> (child: ChildProcess, message: object): Promise<T> {
  const answer = new Promise<T>((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`a bench process exited (${String(code)})`)))
  })
  child.send(message)
  return await answer
}

async function first<T> (child: ChildProcess): Promise<T> {
  return await new Promise<T>((resolve) => child.once('message', resolve))
}

/** Heap the server and the clients add per connection, from WARM to WARM + N connections. */
async function measure (kind: string): Promise<{ server: number, client: number }> {
  const server = start('server.ts', [kind])
  const { url } = await first<{ url: string }>(server)
  const clients = start('clients.ts', [kind, url])
  await first(clients)
  try {
    await ask(clients, { connect: WARM })
    const s0 = (await ask<{ heap: number }>(server, {})).heap
    const c0 = (await ask<{ heap: number }>(clients, { connect: 0 })).heap
    await ask(clients, { connect: N })
    const s1 = (await ask<{ heap: number }>(server, {})).heap
    const c1 = (await ask<{ heap: number }>(clients, { connect: 0 })).heap
    return { server: (s1 - s0) / N, client: (c1 - c0) / N }
  } finally {
    clients.kill()
    server.kill()
  }
}

const base = await measure('ws')
const rows: string[][] = [['ws (baseline)', String(Math.round(base.server)), '1.00x', String(Math.round(base.client)), '1.00x']]
for (const [kind, label] of [['wirebox', 'wirebox, defaults'], ['wirebox-lean', 'wirebox, heartbeat and rate limit off']]) {
  const m = await measure(kind as string)
  rows.push([label as string, String(Math.round(m.server)), `${(m.server / base.server).toFixed(2)}x`, String(Math.round(m.client)), `${(m.client / base.client).toFixed(2)}x`])
}
console.log(`\nHeap per idle connection (${N} connections after ${WARM} warm ones; wirebox: negotiated, subscribed to one topic, handlers on the route)\n`)
printTable(['connection', 'server heap B', 'vs ws', 'client heap B', 'vs ws'], rows, 1)
