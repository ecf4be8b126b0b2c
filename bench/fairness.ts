/**
 * Fairness (issue 8): while 4 connections each keep 8 `ecg.history` requests of 1M samples in
 * flight against the ECG example, how long does a bystander's PING round trip take? Server,
 * attackers and bystander run in three processes; with `taskset` the server gets core 0 and
 * both clients core 1, as the peer benchmark pins them. Prints p50/p90/p99/max in ms.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { MessageType } from '../lib/index.js'
import { TestClient } from '../test/plugin/test-client.js'
import { printTable } from './table.js'

const pin = (core: number): void => {
  try {
    execFileSync('taskset', ['-cp', String(core), String(process.pid)], { stdio: 'ignore' })
  } catch { /* no taskset: not pinned */ }
}
const pinChild = (child: ChildProcess, core: number): void => {
  try {
    execFileSync('taskset', ['-cp', String(core), String(child.pid)], { stdio: 'ignore' })
  } catch { /* no taskset: not pinned */ }
}
const tsx = { execArgv: ['--import', 'tsx'] }
const server = fork(new URL('./fairness/server.ts', import.meta.url), [], tsx)
pinChild(server, 0)
pin(1)
const port = await new Promise<number>((resolve) => server.once('message', (m: { port: number }) => resolve(m.port)))
const url = `ws://127.0.0.1:${port}/ws?encoding=messagepack`
const bystander = await TestClient.connect(url)
await bystander.ready()
const attack = fork(new URL('./fairness/attack.ts', import.meta.url), [url, '4', '8', '1000000', '3', '3000'], tsx)
pinChild(attack, 1)
const state = { finished: false }
attack.once('exit', () => { state.finished = true })
const latencies: number[] = []
for (let id = 1; !state.finished; id++) {
  const started = performance.now()
  await bystander.send(MessageType.PING, { event_type: 'ping', id: 1_000_000 + id })
  await bystander.next((m) => m.type === MessageType.PONG && m.envelope?.id === 1_000_000 + id, 60_000)
  latencies.push(performance.now() - started)
  bystander.received.length = 0
  await new Promise((resolve) => setTimeout(resolve, 20))
}
bystander.close()
server.send('close')
latencies.sort((a, b) => a - b)
const q = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1)
console.log(`bench/fairness - node ${process.version}: the ECG example; 4 connections x 8 ecg.history of 1M samples in flight, 3 rounds 3 s apart; a bystander PINGs every 20 ms (goal: p99 under 250 ms)`)
console.log()
printTable(['PINGs', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [[String(latencies.length), q(0.5), q(0.9), q(0.99), (latencies.at(-1) ?? 0).toFixed(1)]])
