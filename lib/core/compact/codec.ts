/**
 * The msgpack-compact codec (PROTOCOL.md section 9). EVENT, REQUEST and RESPONSE bodies are a
 * positional array, plain MessagePack:
 *
 *   [event, payload?, id?, topic?, seq?]     trailing absent fields left out, others nil
 *
 * `event` is the id of the event (EVENT) or request (REQUEST, RESPONSE) in the layout's table, or
 * its name as a string when it is not in the table (the payload then is self-describing). The
 * payload takes its layout's wire form. The envelope's timestamp is not in the body: it is the
 * v3 header's, in milliseconds. Every other message type keeps the self-describing messagepack
 * form, so a client reads negotiation, errors and control messages before it knows the layout.
 */
import { Kind } from '@sinclair/typebox'
import type { TSchema } from '@sinclair/typebox'
import { MessageType } from '../constants.js'
import { createMessagePackCodec } from '../msgpack-codec.js'
import type { MessagePackCodec } from '../msgpack-codec.js'
import type { Codec, CodecOptions } from '../codec.js'
import type { Envelope } from '../../../schemas/envelope.js'
import { errors, isWireboxError } from '../../errors.js'
import type { WireboxError } from '../../errors.js'
import { LayoutError } from './layout.js'
import type { CompactLayout, LayoutEntry, LayoutNode } from './layout.js'
import { acquireWriter } from './writer.js'
import type { CompactWriter } from './writer.js'

/** The codec of a connection that negotiated msgpack-compact. */
export interface CompactCodec extends Codec {
  readonly name: 'msgpack-compact'
  /** The layout both ends compiled from the protocol. */
  readonly layout: CompactLayout
  /** The self-describing messagepack form, for every other message type. */
  readonly plain: MessagePackCodec
  /**
   * The compact body of an EVENT, REQUEST or RESPONSE, behind `room` bytes as Codec.encode.
   * (`encode` and `decode` are the self-describing messagepack form, for every other type.)
   */
  encodeEnvelope: (type: number, envelope: Envelope, room?: number) => Uint8Array
  /** The envelope of a compact body; `timestamp` (ms) comes from the frame header. Not yet checked by assertEnvelope. */
  decodeEnvelope: (type: number, body: Uint8Array, timestamp: number) => unknown
}

/** True for the message types whose bodies are compact: EVENT, REQUEST and RESPONSE. */
export function isCompactType (type: number): boolean {
  return type === MessageType.EVENT || type === MessageType.REQUEST || type === MessageType.RESPONSE
}

/** Creates the msgpack-compact codec of a layout (see compileLayout). */
export function createCompactCodec (layout: CompactLayout, options?: CodecOptions): CompactCodec {
  const plain = createMessagePackCodec(options)

  function entryFor (type: number, name: string): LayoutEntry | undefined {
    return type === MessageType.EVENT ? layout.eventsByName.get(name) : layout.requestsByName.get(name)
  }

  function nodeOf (type: number, entry: LayoutEntry): LayoutNode {
    return type === MessageType.RESPONSE ? entry.response as LayoutNode : entry.payload
  }

  function writeBody (writer: CompactWriter, type: number, envelope: Envelope): void {
    const { event_type: name, payload, id, topic, seq } = envelope
    const entry = entryFor(type, name)
    const length = seq !== undefined ? 5 : topic !== undefined ? 4 : id !== undefined ? 3 : payload !== undefined ? 2 : 1
    writer.array(length)
    if (entry === undefined) writer.value(name)
    else writer.number(entry.id)
    if (length > 1) {
      if (payload === undefined) writer.nil()
      else if (entry === undefined) writer.value(payload)
      else {
        try {
          nodeOf(type, entry).write(writer, payload)
        } catch (err) {
          if (!(err instanceof LayoutError)) throw err
          throw new errors.WIREBOX_ERR_ENCODE_FAILED('msgpack-compact', `"${name}" /payload${err.path}: ${err.message}`)
        }
      }
    }
    if (length > 2) writer.value(id)
    if (length > 3) writer.value(topic)
    // msgpackr writes a number beyond 32 bits as a float; a sequence number goes as int 64.
    if (length > 4) {
      if (seq !== undefined && seq > 0xffffffff && Number.isSafeInteger(seq)) writer.int64(seq)
      else writer.value(seq)
    }
  }

  function readBody (type: number, body: unknown, timestamp: number): Record<string, unknown> {
    if (!Array.isArray(body) || body.length < 1 || body.length > 5) {
      throw invalidEnvelope('a msgpack-compact body is an array of 1 to 5 items', '/')
    }
    const slot = body[0]
    let entry: LayoutEntry | undefined
    let name: string
    if (typeof slot === 'string') {
      name = slot
    } else {
      if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0) throw invalidEnvelope('the event is an id (non-negative integer) or a name', '/0')
      const table = type === MessageType.EVENT ? layout.events : layout.requests
      entry = table[slot]
      if (entry === undefined) {
        const err = new errors.WIREBOX_ERR_UNKNOWN_EVENT(type === MessageType.EVENT ? 'event id' : 'request id', slot)
        err.details = { path: '/0' }
        throw err
      }
      name = entry.name
    }
    const envelope: Record<string, unknown> = { event_type: name, timestamp }
    if (body.length > 1) {
      const wire = body[1]
      const node = entry === undefined ? undefined : nodeOf(type, entry)
      if (wire === null) {
        // A last nil is a null payload (a missing one is left out); a nil before other fields
        // is null only for a schema that admits null and not a missing payload.
        if (body.length === 2 || (node !== undefined && nullNotMissing(node))) envelope.payload = null
      } else {
        try {
          envelope.payload = node === undefined ? wire : node.decode(wire)
        } catch (err) {
          if (err instanceof LayoutError) throw invalidPayload(name, err)
          if (isWireboxError(err)) throw err
          throw new errors.WIREBOX_ERR_DECODE_FAILED('msgpack-compact', (err as Error).message)
        }
      }
    }
    if (body.length > 2 && body[2] !== null) envelope.id = body[2]
    if (body.length > 3 && body[3] !== null) envelope.topic = body[3]
    if (body.length > 4 && body[4] !== null) envelope.seq = body[4]
    return envelope
  }

  return {
    name: 'msgpack-compact',
    layout,
    plain,
    encode: plain.encode,
    decode: plain.decode,
    encodeEnvelope (type, envelope, room = 0) {
      if (room < 0 || room > 255) throw new errors.WIREBOX_ERR_INVALID_OPTION('room', 'must be 0-255')
      const writer = acquireWriter()
      writer.begin(room, plain.pack)
      try {
        writeBody(writer, type, envelope)
      } catch (err) {
        writer.abort()
        throw err
      }
      return writer.finish()
    },
    decodeEnvelope (type, bytes, timestamp) {
      // The messagepack codec reads the checked body (MessagePackReader); the nodes then turn the
      // positional arrays into values, reusing them where they can.
      return readBody(type, plain.decode(bytes), timestamp)
    }
  }
}

/** True when a payload schema admits null but not a missing payload. */
function nullNotMissing (node: LayoutNode): boolean {
  const kind = (schema: TSchema): string | undefined => (schema as TSchema & { [Kind]?: string })[Kind]
  if (kind(node.schema) === 'Null') return true
  if (kind(node.schema) !== 'Union') return false
  const members = (node.schema.anyOf as TSchema[]).map(kind)
  return members.includes('Null') && !members.some((k) => k === 'Undefined' || k === 'Void' || k === 'Any' || k === 'Unknown')
}

function invalidEnvelope (reason: string, path: string): WireboxError {
  const err = new errors.WIREBOX_ERR_INVALID_ENVELOPE(reason, path)
  err.details = { path }
  return err
}

function invalidPayload (name: string, err: LayoutError): WireboxError {
  const path = `/payload${err.path}`
  const out = new errors.WIREBOX_ERR_INVALID_PAYLOAD(name, `${path}: ${err.message} (msgpack-compact)`)
  out.details = { path, event_type: name }
  return out
}
