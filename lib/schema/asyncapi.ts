/**
 * An AsyncAPI 3.0 document for a wirebox route: one WebSocket channel with the negotiation
 * query parameters as its binding, the server's operations (receive requests and the events
 * clients send, reply with responses, send the events the server sends: each event's direction,
 * PROTOCOL.md section 1), and each message's payload in JSON Schema.
 */
import type { ProtocolDefinition } from '../protocol.js'
import { eventDirection, protocolTables } from '../protocol-tables.js'
import { toJsonWireSchema, definitionName, acceptsUndefined } from './json-schema.js'
import { Definitions } from './definitions.js'
import type { DocumentOptions } from './json-schema.js'
import { Envelope } from '../../schemas/envelope.js'
import { ErrorPayload } from '../../schemas/error.js'
import { Negotiation } from '../../schemas/negotiation.js'
import { Subscription, SubscriptionAck } from '../../schemas/subscription.js'
import { compileLayout } from '../core/compact/layout.js'
import { compactMessageSchema } from './compact-schema.js'

type Json = Record<string, unknown>

const DIRECTIONS = { serverToClient: 'server to client', clientToServer: 'client to server', both: 'either direction' } as const

/** Message names in AsyncAPI may use letters, digits, '.', '-' and '_'. */
function id (name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

/** The AsyncAPI 3.0 document of a protocol served at `options.path`. */
export function protocolAsyncApi (protocol: ProtocolDefinition, options: DocumentOptions = {}): Json {
  const messages: Json = {}
  const channelMessages: Json = {}
  const operations: Json = {}
  const ref = (name: string): Json => ({ $ref: `#/channels/wirebox/messages/${name}` })
  // AsyncAPI schemas are JSON Schema draft-07; recursive schemas go to components.schemas.
  const context = { dialect: 'draft-07' as const, definitions: new Definitions<unknown>(definitionName), refBase: '#/components/schemas/' }
  const wire = (schema: unknown): unknown => toJsonWireSchema(schema, context)
  const envelopeOf = (typeCode: number, eventType: string | undefined, payload: unknown, summary: string, required: string[] = []): Json => ({
    name: eventType ?? summary,
    summary,
    contentType: 'application/json',
    payload: {
      type: 'object',
      description: 'The envelope of a JSON body (MessagePack bodies carry the same map, the type in the frame header)',
      properties: {
        ...(wire(Envelope) as { properties: Json }).properties,
        type: { const: typeCode },
        ...(eventType === undefined ? {} : { event_type: { const: eventType } }),
        ...(payload === undefined ? {} : { payload })
      },
      required: ['type', 'event_type', 'timestamp', ...required]
    }
  })
  const add = (name: string, message: Json): void => {
    messages[name] = message
    channelMessages[name] = { $ref: `#/components/messages/${name}` }
  }
  // msgpack-compact bodies: tuples (draft-07 items arrays) with the layout's annotations.
  const layout = compileLayout(protocol)
  const compact = (entry: typeof layout.events[number], type: 'EVENT' | 'REQUEST' | 'RESPONSE'): string => {
    const name = id(`compact.${type.toLowerCase()}.${entry.name}`)
    add(name, {
      name: `${entry.name} (msgpack-compact)`,
      summary: `${type} ${entry.name} in msgpack-compact (PROTOCOL.md section 9)`,
      contentType: 'application/vnd.msgpack',
      payload: compactMessageSchema(layout, entry, type, 'draft-07')
    })
    return name
  }

  const tables = protocolTables(protocol)
  for (const [name, schema] of tables.events) {
    const m = id(`event.${name}`)
    const direction = eventDirection(tables, name)
    add(m, { ...envelopeOf(0x01, name, wire(schema), `Event ${name} (EVENT, ${DIRECTIONS[direction ?? 'both']})`, acceptsUndefined(schema) ? [] : ['payload']), 'x-wirebox-direction': direction })
    const c = compact(layout.eventsByName.get(name) as typeof layout.events[number], 'EVENT')
    // The operations are the server's: it receives what clients send and sends the rest.
    if (direction !== 'serverToClient') operations[id(`receive.${name}`)] = { action: 'receive', channel: { $ref: '#/channels/wirebox' }, summary: `A client sends the event ${name}`, messages: [ref(m), ref(c)] }
    if (direction !== 'clientToServer') operations[id(`send.${name}`)] = { action: 'send', channel: { $ref: '#/channels/wirebox' }, summary: `The server sends the event ${name} (to one client or a topic)`, messages: [ref(m), ref(c)] }
  }
  for (const [name, request] of Object.entries(protocol.requests ?? {})) {
    const req = id(`request.${name}`)
    const res = id(`response.${name}`)
    add(req, envelopeOf(0x02, name, wire(request.payload), `Request ${name} (REQUEST, with id)`, [...(acceptsUndefined(request.payload) ? [] : ['payload']), 'id']))
    add(res, envelopeOf(0x03, name, wire(request.response), `Response to ${name} (RESPONSE, same id)`, [...(acceptsUndefined(request.response) ? [] : ['payload']), 'id']))
    const entry = layout.requestsByName.get(name) as typeof layout.requests[number]
    const creq = compact(entry, 'REQUEST')
    const cres = compact(entry, 'RESPONSE')
    operations[id(`handle.${name}`)] = {
      action: 'receive',
      channel: { $ref: '#/channels/wirebox' },
      summary: `A client requests ${name}; the server answers with a RESPONSE or an ERROR carrying the same id`,
      messages: [ref(req), ref(creq)],
      reply: { channel: { $ref: '#/channels/wirebox' }, messages: [ref(res), ref(cres), ref('control.error')] }
    }
  }
  add('control.negotiation', envelopeOf(0xfe, 'protocol_negotiation', wire(Negotiation), 'PROTOCOL_NEGOTIATION: the first message of the server', ['payload']))
  add('control.error', envelopeOf(0xff, undefined, wire(ErrorPayload), 'ERROR', ['payload']))
  add('control.subscribe', envelopeOf(0x20, undefined, wire(Subscription), 'SUBSCRIBE (with id)', ['payload', 'id']))
  add('control.subscription_ack', envelopeOf(0x22, undefined, wire(SubscriptionAck), 'SUBSCRIPTION_ACK (with the id of the SUBSCRIBE)', ['payload', 'id']))
  operations.negotiate = { action: 'send', channel: { $ref: '#/channels/wirebox' }, summary: 'The server\'s first message', messages: [ref('control.negotiation')] }
  operations.subscribe = {
    action: 'receive',
    channel: { $ref: '#/channels/wirebox' },
    summary: 'A client subscribes to a topic',
    messages: [ref('control.subscribe')],
    reply: { channel: { $ref: '#/channels/wirebox' }, messages: [ref('control.subscription_ack'), ref('control.error')] }
  }
  operations.error = { action: 'send', channel: { $ref: '#/channels/wirebox' }, summary: 'The server reports an error', messages: [ref('control.error')] }

  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title ?? 'wirebox protocol',
      version: options.version ?? '1.0.0',
      description: 'A wirebox WebSocket route. Frames, encodings and compression: PROTOCOL.md of fastify-wirebox. Payloads are shown in their JSON form; the compact.* messages are the msgpack-compact bodies (PROTOCOL.md section 9), for the layout in x-wirebox-layout.',
      'x-wirebox-layout': layout.summary
    },
    defaultContentType: 'application/json',
    channels: {
      wirebox: {
        address: options.path ?? '/ws',
        title: 'wirebox WebSocket route',
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                encoding: { type: 'string', enum: ['messagepack', 'msgpack', 'msgpack-compact', 'json'], default: 'json' },
                version: { type: 'string', enum: ['1', '2', '3'], description: 'Highest version the client speaks' },
                compression: { type: 'string', enum: ['gzip', 'deflate', 'none'], default: 'gzip' }
              }
            },
            bindingVersion: '0.1.0'
          }
        }
      }
    },
    operations,
    components: { messages, ...(context.definitions.bodies.size === 0 ? {} : { schemas: Object.fromEntries(context.definitions.bodies) }) }
  }
}
