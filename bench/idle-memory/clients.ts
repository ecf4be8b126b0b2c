/**
 * The client side of bench/idle-memory (its own process, run with --expose-gc): opens the
 * connections the parent asks for, `ws` plain, the wirebox kinds with the Node client (ready,
 * one event listener, subscribed to one topic); answers with its heap after a full GC.
 */
import WebSocket from 'ws'
import { createClient } from '../../lib/client/node.js'
import { memory, protocol } from './shared.js'

const [kind, url] = process.argv.slice(2) as [string, string]
const open: unknown[] = []

async function connect (): Promise<unknown> {
  if (kind === 'ws') {
    const ws = new WebSocket(url)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    ws.on('message', () => {})
    return ws
  }
  const client = createClient<typeof protocol>(url, { protocol, reconnect: false })
  await client.ready()
  client.on('tick', () => {})
  await client.subscribe('ticks')
  return client
}

process.on('message', (ask: { connect?: number }) => {
  const work = async (): Promise<number> => {
    for (let left = ask.connect ?? 0; left > 0; left -= 100) open.push(...await Promise.all(Array.from({ length: Math.min(100, left) }, connect)))
    return await memory()
  }
  work().then((heap) => process.send?.({ heap }), (err: unknown) => { console.error(err); process.exit(1) })
})
process.on('disconnect', () => process.exit(0))
process.send?.({ ready: true })
