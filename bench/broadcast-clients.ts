/**
 * The client side of bench/broadcast (its own process): opens N WebSocket clients and counts
 * the messages each receives after the parent says `count`; reports `done` when every socket
 * has `expect` messages.
 */
import WebSocket from 'ws'

const [url = '', countText = '1000', deflate = 'no'] = process.argv.slice(2)
const sockets: WebSocket[] = []
const received: number[] = []
let counting = false
let expect = 0
let complete = 0

function check (i: number): void {
  if (counting && received[i] === expect) {
    complete++
    if (complete === sockets.length) process.send?.({ done: true })
  }
}

for (let i = 0; i < Number(countText); i++) {
  const ws = new WebSocket(url, { perMessageDeflate: deflate === 'deflate' })
  received.push(0)
  ws.on('message', () => {
    if (!counting) return
    received[i] = (received[i] as number) + 1
    check(i)
  })
  sockets.push(ws)
}
await Promise.all(sockets.map(async (ws) => await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })))
process.send?.({ ready: true })
process.on('message', (message: { count?: number, close?: boolean }) => {
  if (message.count !== undefined) {
    expect = message.count
    complete = 0
    received.fill(0)
    counting = true
    process.send?.({ counting: true })
  }
  if (message.close === true) {
    for (const ws of sockets) ws.terminate()
    process.exit(0)
  }
})
