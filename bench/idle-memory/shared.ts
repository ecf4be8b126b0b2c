/** What both sides of bench/idle-memory share: the protocol and the heap reading. */
import { Type } from '@sinclair/typebox'
import { defineProtocol } from '../../lib/index.js'

export const protocol = defineProtocol({
  serverToClient: { tick: Type.Object({ n: Type.Integer() }) },
  requests: { echo: { payload: Type.Object({ text: Type.String() }), response: Type.Object({ text: Type.String() }) } }
})

/** The heap in use after full collections (the process runs with --expose-gc). */
export async function memory (): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return process.memoryUsage().heapUsed
}
