import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** Payload of SUBSCRIBE (0x20) and UNSUBSCRIBE (0x21), sent with an `id`. */
export const Subscription = Type.Object({
  topic: Type.String({ minLength: 1, maxLength: 1024 }),
  since: Type.Optional(Type.Integer({ minimum: 0, description: 'SUBSCRIBE only: the last seq the client saw' }))
}, { $id: 'wirebox.subscription', title: 'Subscription' })
/** Payload of SUBSCRIBE and UNSUBSCRIBE. */
export type Subscription = Static<typeof Subscription>
/** Compiled check for a SUBSCRIBE or UNSUBSCRIBE payload. */
export const SubscriptionCheck = TypeCompiler.Compile(Subscription)

/** Payload of SUBSCRIPTION_ACK (0x22), sent with the request's `id` before any replayed message. */
export const SubscriptionAck = Type.Object({
  topic: Type.String(),
  seq: Type.Integer({ minimum: 0, description: 'The topic\'s current seq' }),
  recovered: Type.Optional(Type.Boolean()),
  first_seq: Type.Optional(Type.Integer({ minimum: 0, description: 'Oldest seq still in history, when recovered is false' }))
}, { $id: 'wirebox.subscription-ack', title: 'SubscriptionAck' })
/** Payload of SUBSCRIPTION_ACK. */
export type SubscriptionAck = Static<typeof SubscriptionAck>
/** Compiled check for a SUBSCRIPTION_ACK payload. */
export const SubscriptionAckCheck = TypeCompiler.Compile(SubscriptionAck)
