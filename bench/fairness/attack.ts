/**
 * The attackers of bench/fairness (their own process): SOCKETS connections each send IN_FLIGHT
 * `ecg.history` requests of SAMPLES samples, ROUNDS times, ROUND_MS apart, and read nothing back.
 */
import { MessageType } from '../../lib/index.js'
import { TestClient } from '../../test/plugin/test-client.js'

const [url = '', sockets = '4', inFlight = '8', samples = '1000000', rounds = '3', roundMs = '3000'] = process.argv.slice(2)
const attackers = await Promise.all(Array.from({ length: Number(sockets) }, async () => await TestClient.connect(url)))
for (const a of attackers) {
  await a.ready()
  a.ws.removeAllListeners('message') // read the bytes, decode nothing
}
let id = 1
for (let round = 0; round < Number(rounds); round++) {
  for (const a of attackers) {
    for (let k = 0; k < Number(inFlight); k++) await a.send(MessageType.REQUEST, { event_type: 'ecg.history', id: id++, payload: { patient_id: 'p1', samples: Number(samples) } })
  }
  await new Promise((resolve) => setTimeout(resolve, Number(roundMs)))
}
process.exit(0)
