/**
 * A lean wirebox peer for the soak test, built on the wire core and ws: negotiates, decodes in
 * order, answers the server's PINGs, correlates answers by `id`. Unlike
 * test/plugin/test-client.ts it keeps nothing it received (a soak client lives for minutes), and
 * it can send raw bytes (hostile clients) and stop reading (slow clients).
 */
import WebSocket from 'ws'
import { MessageDecoder, MessageEncoder, MessageType, nodePlatform } from '../../lib/index.js'
import type { DecodedMessage, Envelope, Negotiation, Version, WireFrame, WireSettings } from '../../lib/index.js'

/** What a client asks for in the handshake. */
export interface Variant {
  encoding: 'messagepack' | 'json'
  version: Version
  compression: 'gzip' | 'deflate' | 'none'
}

/** A connection attempt that did not reach the negotiation; `reason` is short, for tallies. */
export class ConnectError extends Error {
  readonly reason: string
  constructor (reason: string) {
    super(`connection failed: ${reason}`)
    this.reason = reason
  }
}

/** Options of `Peer.connect`. */
export interface ConnectOptions {
  /** Give up when the negotiation has not arrived after this many ms (default 15000). */
  timeoutMs?: number
  /** Extra handshake headers. */
  headers?: Record<string, string>
  /** Replaces the query string built from the variant (hostile handshakes). */
  query?: string
  /** Subprotocols to offer (Sec-WebSocket-Protocol). */
  protocols?: string[]
}

interface Pending {
  resolve: (m: DecodedMessage | undefined) => void
  timer: ReturnType<typeof setTimeout>
}

// One encoder per variant serves every peer of it (an encoder is stateless but for chunk ids).
const encoders = new Map<string, MessageEncoder>()

/** One client connection. */
export class Peer {
  readonly ws: WebSocket
  readonly closed: Promise<number>
  negotiation: Negotiation | undefined
  settings: WireSettings | undefined
  /** Called for every decoded message, before a pending `call` is resolved with it. */
  onMessage: (m: DecodedMessage) => void = () => {}
  /** Messages the peer could not decode (a server bug, or a frame cut short). */
  decodeErrors = 0
  /** Set when this side closed the connection (so the close is not the server's doing). */
  closedByUs = false
  closeCode: number | undefined
  #decoder: MessageDecoder | undefined
  #encoder: MessageEncoder | undefined
  #incoming: Promise<void> = Promise.resolve()
  #outgoing: Promise<void> = Promise.resolve()
  readonly #pending = new Map<number, Pending>()
  #nextId = 1

  private constructor (ws: WebSocket) {
    this.ws = ws
    this.closed = new Promise((resolve) => ws.on('close', (code: number) => {
      this.closeCode = code
      this.#decoder?.close()
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer)
        p.resolve(undefined)
        this.#pending.delete(id)
      }
      resolve(code)
    }))
    ws.on('error', () => {}) // 'close' follows; the code tells what happened
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const input = isBinary ? data : data.toString('utf8')
      this.#incoming = this.#incoming.then(async () => {
        let message: DecodedMessage | undefined
        try {
          this.#decoder ??= firstDecoder(input)
          message = await this.#decoder.decode(input)
        } catch {
          this.decodeErrors++
          return
        }
        if (message !== undefined) this.#dispatch(message)
      })
    })
  }

  /** Opens a connection and resolves once the server's negotiation arrived. */
  static async connect (base: string, variant: Variant, options: ConnectOptions = {}): Promise<Peer> {
    const query = options.query ?? `encoding=${variant.encoding}&version=${variant.version}&compression=${variant.compression}`
    const ws = new WebSocket(`${base}?${query}`, options.protocols, { headers: options.headers, handshakeTimeout: options.timeoutMs ?? 15_000, perMessageDeflate: false })
    const peer = new Peer(ws)
    await new Promise<void>((resolve, reject) => {
      const onResponse = (_req: unknown, res: { statusCode?: number }): void => fail(`HTTP ${res.statusCode ?? 0}`)
      const onError = (err: Error & { code?: string }): void => fail(err.code ?? err.message)
      const onClose = (code: number): void => fail(`closed ${code} before the negotiation`)
      const done = (): void => {
        clearTimeout(timer)
        ws.off('unexpected-response', onResponse)
        ws.off('error', onError)
        ws.off('close', onClose)
        peer.onMessage = () => {}
      }
      const fail = (reason: string): void => {
        done()
        ws.terminate()
        reject(new ConnectError(reason))
      }
      const timer = setTimeout(() => fail(`no negotiation in ${(options.timeoutMs ?? 15_000) / 1000} s`), options.timeoutMs ?? 15_000)
      ws.on('unexpected-response', onResponse)
      ws.on('error', onError)
      ws.on('close', onClose)
      peer.onMessage = (m) => {
        if (m.type !== MessageType.PROTOCOL_NEGOTIATION) return
        done()
        resolve()
      }
    })
    return peer
  }

  /** True while the socket is open. */
  get open (): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  /** A fresh request / subscription id. */
  nextId (): number {
    return this.#nextId++
  }

  /** Encodes and sends one message, in order with the other sends. */
  async send (type: number, envelope: Partial<Envelope> & { event_type: string }, flags = 0): Promise<void> {
    const encoder = this.#encoder
    if (encoder === undefined) throw new Error('not negotiated')
    const frames = encoder.encode({ type, flags, envelope: { timestamp: Date.now(), ...envelope } })
    const sent = this.#outgoing.then(async () => this.sendFrames(await frames))
    this.#outgoing = sent.catch(() => {})
    await sent
  }

  /** Sends a message with an `id` and resolves with its answer, or undefined on timeout or close. */
  async call (type: number, envelope: Partial<Envelope> & { event_type: string }, timeoutMs: number): Promise<DecodedMessage | undefined> {
    const id = envelope.id ?? this.nextId()
    const answer = new Promise<DecodedMessage | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        resolve(undefined)
      }, timeoutMs)
      this.#pending.set(id, { resolve, timer })
    })
    this.send(type, { ...envelope, id }).catch(() => {})
    return await answer
  }

  /** Writes frames as they are (bytes: a binary message, a string: a text message). */
  sendFrames (frames: WireFrame[]): void {
    if (!this.open) return
    for (const frame of frames) this.ws.send(frame, { binary: typeof frame !== 'string' })
  }

  /** Stops reading: the socket is paused, the server's writes pile up. */
  pause (): void {
    this.ws.pause()
  }

  /** Reads again. */
  resume (): void {
    this.ws.resume()
  }

  /** Ends the connection from this side (not counted as a close by the server). */
  terminate (): void {
    this.closedByUs = true
    this.ws.terminate()
  }

  #dispatch (m: DecodedMessage): void {
    if (m.type === MessageType.PROTOCOL_NEGOTIATION && this.negotiation === undefined) {
      const n = m.envelope?.payload as Negotiation
      this.negotiation = n
      this.settings = { encoding: n.encoding, version: n.version, compression: n.compression, maxMessageSize: n.max_message_size }
      this.#decoder = new MessageDecoder(this.settings, { platform: nodePlatform })
      const key = `${n.encoding}.${n.version}.${n.compression}.${n.compression_threshold}.${n.chunk_size ?? 0}`
      let encoder = encoders.get(key)
      if (encoder === undefined) {
        encoder = new MessageEncoder({ ...this.settings, compressionThreshold: n.compression_threshold, ...(n.chunk_size === undefined ? {} : { chunkSize: n.chunk_size }) }, { platform: nodePlatform })
        encoders.set(key, encoder)
      }
      this.#encoder = encoder
    } else if (m.type === MessageType.PING) {
      const id = m.envelope?.id
      this.send(MessageType.PONG, { event_type: 'pong', ...(id === undefined ? {} : { id }) }).catch(() => {})
    }
    this.onMessage(m)
    const id = m.envelope?.id
    if (id === undefined || m.type === MessageType.PING || m.type === MessageType.REQUEST) return
    const pending = this.#pending.get(id)
    if (pending === undefined) return
    this.#pending.delete(id)
    clearTimeout(pending.timer)
    pending.resolve(m)
  }
}

/** The negotiation's decoder: a text frame is JSON (also on a fallback), a binary one MessagePack. */
function firstDecoder (input: Buffer | string): MessageDecoder {
  if (typeof input === 'string') return new MessageDecoder({ encoding: 'json', version: 3, compression: 'none' }, { platform: nodePlatform })
  const version = input[0] === 1 || input[0] === 2 ? input[0] : 3
  return new MessageDecoder({ encoding: 'messagepack', version, compression: 'gzip' }, { platform: nodePlatform })
}
