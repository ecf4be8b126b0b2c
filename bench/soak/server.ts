/**
 * The server of bench/soak.ts, in a process of its own: the ECG example (`buildServer`) as it
 * ships, listening on HOST:PORT. Tells its parent `{ listening: port }`; exits when the parent
 * goes (its IPC channel closes), so a killed soak run leaves no server behind.
 */
import { buildServer } from '../../example/server.js'

const app = await buildServer({ logger: process.env.SOAK_SERVER_LOGGER !== '0' })
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.send?.({ listening: (app.server.address() as { port: number }).port })
process.on('disconnect', () => {
  // Open sockets are the load's to close; do not wait long for them.
  setTimeout(() => process.exit(0), 2000).unref()
  app.close().finally(() => process.exit(0))
})
