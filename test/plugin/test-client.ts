/**
 * A minimal wirebox peer for the plugin tests, built on the wire core and ws: connects (real
 * socket or injectWS), reads the negotiation, sends messages, waits for messages.
 */
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import { MessageDecoder, MessageEncoder, MessageType, Flag, nodePlatform } from '../../lib/index.js'
import type { DecodedMessage, Envelope, Negotiation, WireSettings } from '../../lib/index.js'
import { handshakeSettings } from '../../lib/session/handshake.js'

interface Waiter {
  match: (m: DecodedMessage) => boolean
  resolve: (m: DecodedMessage) => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
}

const open = new Set<TestClient>()

/** Listens on a free loopback port; returns the ws:// base URL. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return `ws://127.0.0.1:${port}`
}

/** Terminates every test client, then closes the app (no close handshake left pending). */
export async function shutdown (app: FastifyInstance): Promise<void> {
  for (const client of open) client.close()
  await app.close()
}

/** A test peer. */
export class TestClient {
  readonly ws: WebSocket
  readonly received: DecodedMessage[] = []
  readonly errors: Error[] = []
  negotiation: Negotiation | undefined
  closeCode: number | undefined
  #decoder: MessageDecoder | undefined
  #encoder: MessageEncoder | undefined
  #waiters: Waiter[] = []
  #nextId = 1
  #queue: Promise<void> = Promise.resolve()
  readonly #ready: Promise<Negotiation>
  readonly closed: Promise<number>

  constructor (ws: WebSocket) {
    this.ws = ws
    open.add(this)
    let resolveReady!: (n: Negotiation) => void
    this.#ready = new Promise((resolve) => { resolveReady = resolve })
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code
      resolve(code)
    }))
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#queue = this.#queue.then(async () => {
        const input = isBinary ? data : data.toString('utf8')
        if (this.#decoder === undefined) this.#decoder = firstDecoder(input)
        try {
          const message = await this.#decoder.decode(input)
          if (message === undefined) return
          if (message.type === MessageType.PROTOCOL_NEGOTIATION && this.negotiation === undefined) {
            const n = message.envelope?.payload as Negotiation
            this.negotiation = n
            const settings: WireSettings = { encoding: n.encoding, version: n.version, compression: n.compression }
            this.#decoder = new MessageDecoder(settings, { platform: nodePlatform })
            this.#encoder = new MessageEncoder(settings, { platform: nodePlatform })
            resolveReady(n)
          }
          this.received.push(message)
          for (const w of [...this.#waiters]) {
            if (w.match(message)) {
              clearTimeout(w.timer)
              this.#waiters.splice(this.#waiters.indexOf(w), 1)
              w.resolve(message)
            }
          }
        } catch (err) {
          this.errors.push(err as Error)
        }
      })
    })
  }

  /** Connects with injectWS (no port). */
  static async inject (app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    let client: TestClient | undefined
    await app.ready()
    await app.injectWS(url, { headers }, { onInit: (ws: WebSocket) => { client = new TestClient(ws) } })
    return client as TestClient
  }

  /** Connects over a real socket. */
  static async connect (url: string, protocols?: string[], headers?: Record<string, string>): Promise<TestClient> {
    const ws = new WebSocket(url, protocols, { headers })
    const client = new TestClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)))
    })
    return client
  }

  /** Resolves with the negotiation payload. */
  async ready (): Promise<Negotiation> {
    return await this.#ready
  }

  /** Waits for a message (already received ones count) matching `match`. */
  async next (match: (m: DecodedMessage) => boolean, timeoutMs = 3000): Promise<DecodedMessage> {
    const seen = this.received.find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer)
        reject(new Error('timed out waiting for a message'))
      }, timeoutMs)
      this.#waiters.push({ match, resolve, reject, timer })
    })
  }

  /** Sends one message; returns its frames. */
  async send (type: number, envelope: Partial<Envelope> & { event_type: string }, flags = 0): Promise<void> {
    await this.ready()
    const frames = await (this.#encoder as MessageEncoder).encode({ type, flags, envelope: { timestamp: Date.now(), ...envelope } })
    for (const frame of frames) this.ws.send(frame)
  }

  /** Sends a REQUEST and waits for its RESPONSE or ERROR. */
  async request (name: string, payload: unknown, timeoutMs = 3000): Promise<DecodedMessage> {
    const id = this.#nextId++
    await this.send(MessageType.REQUEST, { event_type: name, id, payload })
    return await this.next((m) => (m.type === MessageType.RESPONSE || m.type === MessageType.ERROR) && m.envelope?.id === id, timeoutMs)
  }

  /** Subscribes and waits for the SUBSCRIPTION_ACK or ERROR. */
  async subscribe (topic: string, since?: number): Promise<DecodedMessage> {
    const id = this.#nextId++
    await this.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id, payload: since === undefined ? { topic } : { topic, since } })
    return await this.next((m) => (m.type === MessageType.SUBSCRIPTION_ACK || m.type === MessageType.ERROR) && m.envelope?.id === id)
  }

  /** Messages of a type received so far. */
  ofType (type: number): DecodedMessage[] {
    return this.received.filter((m) => m.type === type)
  }

  close (): void {
    open.delete(this)
    this.ws.terminate()
  }
}

/** Decodes the first message before the negotiation is known: the handshake's form. */
function firstDecoder (input: Buffer | string): MessageDecoder {
  return new MessageDecoder(handshakeSettings(input), { platform: nodePlatform })
}

export { MessageType, Flag }
