/**
 * The session rules both ends share (PROTOCOL.md section 1, "Connection behaviour"): the envelope
 * of control messages, a PING answered by a PONG with its id, PONG and HEARTBEAT as signs of life
 * only, an ACK settling what was sent with ACK_REQUIRED; outgoing messages in order (Outbox),
 * replies awaited by id (PendingTable), the heartbeat rule (Liveness). The server connection and
 * the client each hold one Session and add their own messages on top.
 */
import { MessageType } from '../core/constants.js'
import type { DecodedMessage, MessageEncoder, OutgoingMessage } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { Outbox } from './outbox.js'
import type { WriteMessage } from './outbox.js'
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
  /** Outgoing messages, in order. */
  readonly outbox: Outbox
  /** Messages this end sent with ACK_REQUIRED, awaiting their ACK. */
  readonly acks = new PendingTable<void>()
  /** When the peer was last heard from. */
  readonly liveness = new Liveness()

  constructor (write: WriteMessage) {
    this.outbox = new Outbox(write)
  }

  /** Builds an envelope for `type` with `fields`. */
  static envelope (type: number, fields: MessageFields): Envelope {
    const { event_type: name, ...rest } = fields
    const envelope = { event_type: name ?? CONTROL_NAMES[type] ?? 'message', timestamp: Date.now(), ...rest }
    if (envelope.id === undefined) delete envelope.id
    return envelope as Envelope
  }

  /** Encodes a message with `encoder` and queues it; resolves once written (false: not written). */
  async send (encoder: MessageEncoder, type: number, fields: MessageFields, flags = 0, droppable = false): Promise<boolean> {
    const message: OutgoingMessage = { type, flags, envelope: Session.envelope(type, fields) }
    return await this.outbox.push(encoder.encodeMessage(message), type, droppable, message.envelope.event_type)
  }

  /**
   * Applies the session's own rules to a received message: PING (answered with a PONG carrying
   * its id), PONG and HEARTBEAT (signs of life), ACK (settles the message it acknowledges).
   * Returns false for anything else, and for an ACK without id, for the end to handle.
   */
  handle (message: DecodedMessage, encoder: MessageEncoder, onError: (err: unknown) => void): boolean {
    const id = message.envelope?.id
    switch (message.type) {
      case MessageType.PING:
        this.send(encoder, MessageType.PONG, { id }).catch(onError)
        return true
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
