/** The server of bench/fairness (its own process): the ECG example, listening on a free port. */
import { buildServer } from '../../example/server.js'

const app = await buildServer({ logger: false })
await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ port: (app.server.address() as { port: number }).port })
process.on('message', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
