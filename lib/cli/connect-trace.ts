/**
 * The console's view of the wire: a WebSocket class for the client's `WebSocket` option that
 * hands every frame to the client unchanged and decodes a copy with the wire core, so the
 * console sees each message in both directions with its type, flags, id, sizes on the wire and
 * round trip. The client does not expose these per message (see the report in README's Console
 * section): this decodes each message a second time, which a console can afford.
 */
import { MessageDecoder } from '../core/wire.js'
import type { WireSettings } from '../core/wire.js'
import { MessageType } from '../core/constants.js'
import type { Version } from '../core/constants.js'
import type { Envelope } from '../../schemas/envelope.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import { nodePlatform } from '../platform/node.js'
import type { CompactLayout } from '../core/compact/layout.js'
import type { WebSocketClass, WebSocketLike } from '../client/node.js'

/** One message as it crossed the wire. */
export interface TraceEntry {
  direction: 'in' | 'out'
  type: number
  /** Flags as sent (COMPRESSED and CHUNKED included). */
  flags: number
  envelope: Envelope | undefined
  /** Bytes on the wire, every frame of a chunked message together. */
  wireBytes: number
  frames: number
  /** Bytes of the body after decompression and reassembly. */
  bodyBytes: number
  /** Milliseconds since the message with the same id went out (responses, ACKs, errors). */
  roundTripMs?: number
}

const CODEC = { bigint: true, maxDepth: 64 }
const ANSWERED = new Set<number>([MessageType.RESPONSE, MessageType.ERROR, MessageType.SUBSCRIPTION_ACK, MessageType.ACK])

/** Decodes one direction's frames in order, counting the frames of each message. */
class Direction {
  decoder: MessageDecoder | undefined
  #queue: Promise<void> = Promise.resolve()
  #wire = 0
  #frames = 0

  push (data: Uint8Array | string, emit: (entry: Omit<TraceEntry, 'direction'>) => void, fail: (err: Error) => void, first?: () => MessageDecoder, after?: Promise<void>): void {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    this.#queue = Promise.all([this.#queue, after]).then(async () => {
      const decoder = this.decoder ?? first?.()
      if (decoder === undefined) return
      this.#wire += size
      this.#frames++
      let message
      try {
        message = await decoder.decode(data)
      } catch (err) {
        this.#wire = this.#frames = 0
        return fail(err as Error)
      }
      if (message === undefined) return // a chunk: the rest is to come
      emit({ type: message.type, flags: message.flags, envelope: message.envelope, wireBytes: this.#wire, frames: this.#frames, bodyBytes: message.bodySize })
      this.#wire = this.#frames = 0
    })
  }

  async idle (): Promise<void> {
    await this.#queue
  }
}

/** Watches the frames of every socket the client opens. */
export class WireTrace {
  readonly #onEntry: (entry: TraceEntry) => void
  readonly #onProblem: (err: Error) => void
  #in = new Direction()
  #out = new Direction()
  readonly #sentAt = new Map<number, number>()
  readonly #layout: CompactLayout | undefined

  /** `layout`: the protocol's, to read msgpack-compact bodies (PROTOCOL.md section 9). */
  constructor (onEntry: (entry: TraceEntry) => void, onProblem: (err: Error) => void, layout?: CompactLayout) {
    this.#onEntry = onEntry
    this.#onProblem = onProblem
    this.#layout = layout
  }

  /** Resolves once every frame seen so far is decoded and reported. */
  async idle (): Promise<void> {
    await Promise.all([this.#in.idle(), this.#out.idle()])
  }

  /** A WebSocket class that reports to this trace. */
  socketClass (Base: WebSocketClass): WebSocketClass {
    const trace = this
    return class TracedSocket implements WebSocketLike {
      readonly #socket: WebSocketLike
      constructor (url: string, protocols?: string | string[]) {
        this.#socket = new Base(url, protocols)
        trace.#reset()
      }

      get binaryType (): string { return this.#socket.binaryType }
      set binaryType (value: string) { this.#socket.binaryType = value }
      get readyState (): number { return this.#socket.readyState }
      get protocol (): string { return this.#socket.protocol }
      get onopen (): WebSocketLike['onopen'] { return this.#socket.onopen }
      set onopen (f: WebSocketLike['onopen']) { this.#socket.onopen = f }
      get onclose (): WebSocketLike['onclose'] { return this.#socket.onclose }
      set onclose (f: WebSocketLike['onclose']) { this.#socket.onclose = f }
      get onerror (): WebSocketLike['onerror'] { return this.#socket.onerror }
      set onerror (f: WebSocketLike['onerror']) { this.#socket.onerror = f }
      get onmessage (): WebSocketLike['onmessage'] { return this.#socket.onmessage }
      set onmessage (f: WebSocketLike['onmessage']) {
        this.#socket.onmessage = f === null
          ? null
          : (event) => {
              trace.#incoming(event.data)
              f(event)
            }
      }

      send (data: Uint8Array | string): void {
        trace.#outgoing(data)
        this.#socket.send(data)
      }

      close (code?: number, reason?: string): void {
        this.#socket.close(code, reason)
      }
    }
  }

  #reset (): void {
    this.#in = new Direction()
    this.#out = new Direction()
    this.#sentAt.clear()
  }

  #incoming (data: unknown): void {
    const input = typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer)
    const direction = this.#in
    direction.push(input, (entry) => {
      if (entry.type === MessageType.PROTOCOL_NEGOTIATION) this.#negotiated(entry.envelope?.payload as Negotiation)
      const id = entry.envelope?.id
      const sent = id === undefined || !ANSWERED.has(entry.type) ? undefined : this.#sentAt.get(id)
      if (sent !== undefined) this.#sentAt.delete(id as number)
      this.#onEntry({ direction: 'in', ...entry, ...(sent === undefined ? {} : { roundTripMs: performance.now() - sent }) })
    }, this.#onProblem, () => {
      // Before the negotiation, as the client reads it: text is JSON, binary is MessagePack.
      const settings: WireSettings = typeof input === 'string'
        ? { encoding: 'json', version: 3, compression: 'none' }
        : { encoding: 'messagepack', version: (input[0] === 1 || input[0] === 2 ? input[0] : 3) as Version, compression: 'gzip' }
      direction.decoder = new MessageDecoder(settings, { platform: nodePlatform, codec: CODEC })
      return direction.decoder
    })
  }

  #outgoing (data: Uint8Array | string): void {
    const sentAt = performance.now()
    this.#out.push(data, (entry) => {
      const id = entry.envelope?.id
      if (id !== undefined && entry.type !== MessageType.RESPONSE && entry.type !== MessageType.ACK) this.#sentAt.set(id, sentAt)
      this.#onEntry({ direction: 'out', ...entry })
    }, this.#onProblem, undefined, this.#in.idle()) // the negotiation that sets the encoder comes in first
  }

  #negotiated (n: Negotiation): void {
    const settings: WireSettings = { encoding: n.encoding, version: n.version, compression: n.compression, maxMessageSize: n.max_message_size }
    if (n.encoding === 'msgpack-compact' && this.#layout === undefined) {
      this.#onProblem(new Error('the server chose msgpack-compact, and the console has no protocol to read it'))
      return
    }
    const context = { platform: nodePlatform, codec: CODEC, layout: this.#layout }
    this.#in.decoder = new MessageDecoder(settings, context)
    this.#out.decoder = new MessageDecoder(settings, context)
  }
}
