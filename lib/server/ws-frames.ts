/**
 * WebSocket frames made once per message and written as they are to every socket that sends it
 * (RFC 6455 section 5.2; server to client, so unmasked). `ws.send` builds a header for every
 * socket and writes header and payload as two buffers (one writev); a frame made here is a
 * single buffer, header included, written through ws's own sender (`sendFrame`, as engine.io
 * does for its pre-encoded broadcasts), so ws's ordering and its count of buffered bytes stay
 * true. The header goes into the room the encoder left in front of the frame
 * (`WireContext.transportRoom`), so an uncompressed message is not copied at all.
 *
 * Used only where ws's sender is idle and no extension (permessage-deflate) was negotiated;
 * otherwise, and with a ws whose sender looks different, `ws.send` does the work.
 */
import type { WebSocket } from 'ws'
import type { EncodedMessage } from '../core/wire.js'

/** The largest server-to-client WebSocket header: 2 bytes and a 64-bit length. */
export const WS_HEADER_ROOM = 10

const FIN = 0x80
const OPCODE_TEXT = 0x1
const OPCODE_BINARY = 0x2

/** What is used of ws's sender (ws 8, lib/sender.js). */
export interface FrameSender {
  /** 0 while nothing is queued in the sender (no compression or blob read in progress). */
  _state: number
  /** False between the fragments of a message sent with `fin: false`. */
  _firstFragment: boolean
  /** Writes complete frames to the socket, in order with everything else ws writes. */
  sendFrame: (list: Buffer[], cb?: (err?: Error) => void) => void
}

interface SocketInternals {
  _sender?: Partial<FrameSender> | null
  _extensions?: Record<string, unknown>
}

/** A message as WebSocket frames: one buffer (every frame of a chunked message), ready to write. */
export type WsFrames = [Buffer]

/**
 * The sender that prebuilt frames can go through, or undefined when this socket must use
 * `ws.send`: an extension is negotiated, or ws's sender is not the one this was written for.
 */
export function frameSenderOf (socket: WebSocket): FrameSender | undefined {
  const { _sender: sender, _extensions: extensions } = socket as unknown as SocketInternals
  if (sender === undefined || sender === null || typeof sender.sendFrame !== 'function') return undefined
  if (typeof sender._state !== 'number' || typeof sender._firstFragment !== 'boolean') return undefined
  if (extensions === undefined || Object.keys(extensions).length !== 0) return undefined
  return sender as FrameSender
}

/** True when `sender` can take a whole frame now (nothing of its own queued, no fragmented message open). */
export function idle (sender: FrameSender): boolean {
  return sender._state === 0 && sender._firstFragment
}

/**
 * The message's WebSocket frames, made by the first socket that sends it and kept on the message:
 * one buffer, so that a socket takes the whole message in one write (a chunked message's frames
 * follow each other in it).
 */
export function wsFramesOf (encoded: EncodedMessage): WsFrames {
  const made = encoded.transport as WsFrames | undefined
  if (made !== undefined) return made
  const { frames } = encoded
  let bytes: Buffer
  if (frames.length === 1) {
    const frame = frames[0] as Uint8Array | string
    bytes = typeof frame === 'string' ? textFrame(frame) : binaryFrame(frame, encoded.room)
  } else {
    let total = 0
    for (const frame of frames) total += typeof frame === 'string' ? 0 : headerSize(frame.length) + frame.length
    bytes = Buffer.allocUnsafe(total)
    let at = 0
    for (const frame of frames) {
      // Only a message of one frame travels as text (wire.ts): chunks are binary.
      if (typeof frame === 'string') throw new TypeError('wirebox: a chunked message has a text frame')
      at = writeWsHeader(bytes, at, OPCODE_BINARY, frame.length)
      bytes.set(frame, at)
      at += frame.length
    }
  }
  const list: WsFrames = [bytes]
  encoded.transport = list
  return list
}

function textFrame (text: string): Buffer {
  const length = Buffer.byteLength(text)
  const frame = Buffer.allocUnsafe(headerSize(length) + length)
  frame.write(text, writeWsHeader(frame, 0, OPCODE_TEXT, length), length, 'utf8')
  return frame
}

function binaryFrame (bytes: Uint8Array, room: number): Buffer {
  const header = headerSize(bytes.length)
  if (room >= header) {
    // The encoder's room in front of the frame: the header goes there, nothing is copied.
    const frame = Buffer.from(bytes.buffer, bytes.byteOffset - header, header + bytes.length)
    writeWsHeader(frame, 0, OPCODE_BINARY, bytes.length)
    return frame
  }
  const frame = Buffer.allocUnsafe(header + bytes.length)
  frame.set(bytes, writeWsHeader(frame, 0, OPCODE_BINARY, bytes.length))
  return frame
}

/** Header bytes for a payload of `length` bytes (7-bit, 16-bit or 64-bit length). */
function headerSize (length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10
}

/** Writes a final frame's header at `at`; returns where its payload starts. */
function writeWsHeader (target: Buffer, at: number, opcode: number, length: number): number {
  target[at] = FIN | opcode
  if (length < 126) {
    target[at + 1] = length
    return at + 2
  }
  if (length < 0x10000) {
    target[at + 1] = 126
    target.writeUInt16BE(length, at + 2)
    return at + 4
  }
  target[at + 1] = 127
  target.writeUInt32BE(Math.floor(length / 0x1_0000_0000), at + 2)
  target.writeUInt32BE(length >>> 0, at + 6)
  return at + 10
}
