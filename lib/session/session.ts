/**
 * The session rules both ends share (PROTOCOL.md section 1, "Connection behaviour"): the envelope
 * of control messages, a PING answered by a PONG with its id, PONG and HEARTBEAT as signs of life
 * only, an ACK settling what was sent with ACK_REQUIRED; outgoing messages in order (Outbox),
 * replies awaited by id (PendingTable), the heartbeat rule (Liveness). The server connection and
 * the client each hold one Session and add their own messages on top.
 */
import { MessageType } from '../core/constants.js'
import type { DecodedMessage, EncodedMessage, MessageEncoder, OutgoingMessage } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { Outbox } from './outbox.js'
import type { MessageWriter } from './outbox.js'
import { PendingTable } from './pending.js'
import { Liveness } from './liveness.js'

/** The informative `event_type` of control messages (receivers do not check it). */
const CONTROL_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [MessageType.ACK]: 'ack',
  [MessageType.HEARTBEAT]: 'heartbeat',
  [MessageType.PING]: 'ping',
  [MessageType.PONG]: 'pong',
  [MessageType.SUBSCRIBE]: 'subscribe',
  [MessageType.UNSUBSCRIBE]: 'unsubscribe',
  [MessageType.SUBSCRIPTION_ACK]: 'subscription_ack',
  [MessageType.VERSION_CHECK]: 'version_check',
  [MessageType.PROTOCOL_NEGOTIATION]: 'protocol_negotiation',
  [MessageType.ERROR]: 'error'
})

/** Fields of a message built by the session (the timestamp is now). */
export interface MessageFields {
  payload?: unknown
  id?: number | undefined
  /** Default: the type's control name. */
  event_type?: string
  topic?: string
  seq?: number
}

/** The shared half of a connection. */
export class Session {
  readonly #writer: MessageWriter
  // Outgoing messages in order, made when one first has to wait (behind a message still
  // encoding, or an `after`): until then, and on most connections ever, each is written at once.
  #outbox: Outbox | undefined
  // Created when first used: most connections never send a message with ACK_REQUIRED.
  #acks: PendingTable<void> | undefined
  /** When the peer was last heard from. */
  readonly liveness = new Liveness()

  constructor (writer: MessageWriter) {
    this.#writer = writer
  }

  /**
   * Queues an encoded message behind what is queued (Outbox.push): whether it was written, at
   * once when it is ready and nothing waits ahead of it, else as a promise.
   */
  push (encoded: Promise<EncodedMessage> | EncodedMessage, type: number, droppable: boolean, eventType?: string): boolean | Promise<boolean> {
    if (this.#outbox === undefined && !(encoded instanceof Promise)) return this.#writer.write(encoded, type, droppable, eventType)
    return (this.#outbox ??= new Outbox(this.#writer)).push(encoded, type, droppable, eventType)
  }

  /** Runs `fn` once everything queued so far is written (e.g. a close after an ERROR). */
  after (fn: () => void): void {
    if (this.#outbox === undefined) return fn()
    this.#outbox.after(fn)
  }

  /** Messages this end sent with ACK_REQUIRED, awaiting their ACK. */
  get acks (): PendingTable<void> {
    return (this.#acks ??= new PendingTable<void>())
  }

  /** Builds an envelope for `type` with `fields` (in one shape, with no absent fields). */
  static envelope (type: number, fields: MessageFields): Envelope {
    const envelope: Envelope = { event_type: fields.event_type ?? CONTROL_NAMES[type] ?? 'message', timestamp: Date.now() }
    if (fields.id !== undefined) envelope.id = fields.id
    if (fields.topic !== undefined) envelope.topic = fields.topic
    if (fields.seq !== undefined) envelope.seq = fields.seq
    if (fields.payload !== undefined) envelope.payload = fields.payload
    return envelope
  }

  /**
   * Encodes a message with `encoder` and queues it. Returns whether it was written: at once when
   * it could be, else as a promise (which rejects when it could not be encoded).
   */
  send (encoder: MessageEncoder, type: number, fields: MessageFields, flags = 0, droppable = false): boolean | Promise<boolean> {
    try {
      const message: OutgoingMessage = { type, flags, envelope: Session.envelope(type, fields) }
      return this.push(encoder.encodeNow(message), type, droppable, message.envelope.event_type)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Applies the session's own rules to a received message: PING (answered with a PONG carrying
   * its id), PONG and HEARTBEAT (signs of life), ACK (settles the message it acknowledges).
   * Returns false for anything else, and for an ACK without id, for the end to handle.
   */
  handle (message: DecodedMessage, encoder: MessageEncoder, onError: (err: unknown) => void): boolean {
    const id = message.envelope?.id
    switch (message.type) {
      case MessageType.PING: {
        const sent = this.send(encoder, MessageType.PONG, { id })
        if (sent instanceof Promise) sent.catch(onError)
        return true
      }
      case MessageType.PONG:
      case MessageType.HEARTBEAT:
        return true
      case MessageType.ACK:
        if (id === undefined) return false
        this.acks.resolve(id, undefined)
        return true
      default:
        return false
    }
  }
}
