/**
 * Type tests (checked by `tsc --noEmit`, part of `npm test`): each event goes one way. The server
 * sends and publishes `serverToClient` events and handles `clientToServer` ones; the client sends
 * `clientToServer` events and listens to `serverToClient` ones; `events` go both ways. The wrong
 * direction does not compile, on either end.
 */
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import wirebox, { defineProtocol } from '../../lib/index.js'
import type { ClientEventName, EventPayload, ProtocolDefinition, Publisher, ServerEventName } from '../../lib/index.js'
import { createClient } from '../../lib/client/node.js'

const protocol = defineProtocol({
  serverToClient: { tick: Type.Object({ n: Type.Integer() }) },
  clientToServer: { mark: Type.Object({ note: Type.String() }) },
  events: { chat: Type.Object({ text: Type.String() }) }
})
type P = typeof protocol

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
export const serverNames: Equal<ServerEventName<P>, 'tick' | 'chat'> = true
export const clientNames: Equal<ClientEventName<P>, 'mark' | 'chat'> = true
export const tickPayload: Equal<EventPayload<P, 'tick'>, { n: number }> = true
// A protocol only known as a definition (the untyped client) takes any name and payload.
export const anyName: Equal<ServerEventName<ProtocolDefinition>, string> = true

const app = Fastify()
await app.register(wirebox)
const publisher: Publisher<P> = app.wirebox('/ws', { protocol }, (conn) => {
  conn.send('tick', { n: 1 }).catch(() => {})
  conn.send('chat', { text: 'hello' }).catch(() => {})
  // @ts-expect-error `mark` is sent by clients only
  conn.send('mark', { note: 'x' }).catch(() => {})
  conn.on('mark', ({ note }) => { note.toUpperCase() })
  conn.on('chat', ({ text }) => { text.toUpperCase() })
  // @ts-expect-error `tick` is sent by the server only: it never arrives from a client
  conn.on('tick', () => {})
})

// Publishing is typed by the protocol: the route's publisher, or app.wirebox.publisher(protocol).
const ticks = app.wirebox.publisher(protocol)
await ticks.publish('t', 'tick', { n: 2 }, { priority: true })
await publisher.publish('t', 'chat', { text: 'to everyone' })
// @ts-expect-error only server events are published
await ticks.publish('t', 'mark', { note: 'x' })
// @ts-expect-error `n` is an integer
await ticks.publish('t', 'tick', { n: 'two' })
// @ts-expect-error not an event of the protocol
await publisher.publish('t', 'unknown', {})

const client = createClient<P>('ws://127.0.0.1:3000/ws')
await client.send('mark', { note: 'seen' }, { ack: true })
await client.send('chat', { text: 'hi' })
// @ts-expect-error `tick` is sent by the server only
await client.send('tick', { n: 3 })
client.on('tick', ({ n }) => { n.toFixed() })
client.on('chat', ({ text }) => { text.toUpperCase() })
// @ts-expect-error `mark` is sent by clients only: the server never sends it
client.on('mark', () => {})
// @ts-expect-error `note` is a string
await client.send('mark', { note: 3 })
