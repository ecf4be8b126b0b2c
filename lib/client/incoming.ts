/**
 * What the server sends the client besides the session's own messages (PROTOCOL.md section 1):
 * answers (RESPONSE, SUBSCRIPTION_ACK, ERROR) settle what awaits them, or reach the gap and error
 * listeners; an EVENT is delivered: a topic message at or below the last seq seen is not
 * delivered again, the payload is checked when the client validates, the listeners run, and an
 * event sent with ACK_REQUIRED is answered with an ACK once they are done, or an ERROR when one
 * failed.
 */
import { Flag, MessageType } from '../core/constants.js'
import type { DecodedMessage } from '../core/wire.js'
import type { Envelope } from '../../schemas/envelope.js'
import { WireCode, errors } from '../errors.js'
import type { WireboxError } from '../errors.js'
import type { MessageFields } from '../session/session.js'
import type { PendingTable } from '../session/pending.js'
import type { ErrorPayload } from '../../schemas/error.js'
import type { SubscriptionAck } from '../../schemas/subscription.js'
import type { ClientListeners } from './listeners.js'
import type { TopicCursors } from './topic-cursors.js'
import { WireboxRemoteError } from './types.js'
import type { EventMeta } from './types.js'

/** What handling incoming messages needs of the client and its connection. */
export interface IncomingContext {
  readonly listeners: ClientListeners
  readonly topics: TopicCursors
  /** Requests and subscriptions awaiting their answer. */
  readonly requests: PendingTable<unknown>
  /** Events this connection sent with ACK_REQUIRED. */
  readonly acks: PendingTable<void>
  /** Whether the client validates incoming payloads (else `problem` is not asked). */
  readonly validates: boolean
  /** The problem of a payload, when the client validates. */
  problem (kind: 'event' | 'response', name: string | undefined, payload: unknown): WireboxError | undefined
  /** Reports an error to the client's error listeners. */
  report (error: Error): void
  /** Sends an answer (ACK or ERROR) on the connection the event came from, if still open. */
  answer (type: number, fields: MessageFields): void
}

/** Handles one RESPONSE, SUBSCRIPTION_ACK, ERROR or EVENT (anything else is ignored). */
export function handleIncoming (client: IncomingContext, message: DecodedMessage, envelope: Envelope): void {
  const id = envelope.id
  switch (message.type) {
    case MessageType.RESPONSE: {
      if (id === undefined) return
      const invalid = client.validates ? client.problem('response', client.requests.nameOf(id), envelope.payload) : undefined
      if (invalid !== undefined) client.requests.reject(id, invalid)
      else client.requests.resolve(id, envelope.payload)
      return
    }
    case MessageType.SUBSCRIPTION_ACK: {
      if (id !== undefined) {
        client.requests.resolve(id, envelope.payload)
        return
      }
      // A notice of lost messages.
      const gap = client.topics.answer(envelope.payload as SubscriptionAck, undefined, false)
      if (gap !== undefined) client.listeners.gap(gap)
      return
    }
    case MessageType.ERROR: {
      const error = new WireboxRemoteError(envelope.payload as ErrorPayload)
      if (id !== undefined && (client.requests.reject(id, error) || client.acks.reject(id, error))) return
      return client.report(error)
    }
    case MessageType.EVENT: return deliverEvent(client, message, envelope)
    default:
  }
}

function deliverEvent (client: IncomingContext, message: DecodedMessage, envelope: Envelope): void {
  const name = envelope.event_type
  // Exactly once: a topic message at or below the last seq seen is not delivered again.
  if (envelope.topic !== undefined && envelope.seq !== undefined && !client.topics.accept(envelope.topic, envelope.seq)) return
  const invalid = client.validates ? client.problem('event', name, envelope.payload) : undefined
  if (invalid !== undefined) return client.report(invalid)
  const meta: EventMeta = { envelope, flags: message.flags, topic: envelope.topic, seq: envelope.seq }
  const ok = client.listeners.event(name, envelope.payload, meta, client)
  const id = envelope.id
  if ((message.flags & Flag.ACK_REQUIRED) === 0 || id === undefined) {
    if (ok instanceof Promise) ok.catch((err: unknown) => { client.report(err as Error) })
    return
  }
  const settle = (done: boolean): void => {
    if (done) client.answer(MessageType.ACK, { event_type: name, id })
    else client.answer(MessageType.ERROR, { id, payload: { code: WireCode.INTERNAL_ERROR, message: new errors.WIREBOX_ERR_INTERNAL(name).message } })
  }
  if (ok instanceof Promise) ok.then(settle, () => settle(false))
  else settle(ok)
}
