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

/** A message's frames as ws frame lists (one buffer each), made once per message. */
export type WsFrames = Buffer[][]

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

/** The message's WebSocket frames, made by the first socket that sends it and kept on the message. */
export function wsFramesOf (encoded: EncodedMessage): WsFrames {
  const made = encoded.transport as WsFrames | undefined
  if (made !== undefined) return made
  const frames: WsFrames = []
  for (let i = 0; i < encoded.frames.length; i++) {
    const frame = encoded.frames[i] as Uint8Array | string
    frames.push([typeof frame === 'string' ? textFrame(frame) : binaryFrame(frame, i === 0 ? encoded.room : 0)])
  }
  encoded.transport = frames
  return frames
}

/** The payload of a frame made here (for `ws.send`, when a socket cannot take prebuilt frames). */
export function payloadOf (wsFrame: Buffer): Buffer {
  return wsFrame.subarray(headerSizeOf(wsFrame[1] as number))
}

function textFrame (text: string): Buffer {
  const length = Buffer.byteLength(text)
  const header = headerSize(length)
  const frame = Buffer.allocUnsafe(header + length)
  writeWsHeader(frame, OPCODE_TEXT, length)
  frame.write(text, header, length, 'utf8')
  return frame
}

function binaryFrame (bytes: Uint8Array, room: number): Buffer {
  const header = headerSize(bytes.length)
  if (room >= header) {
    // The encoder's room in front of the frame: the header goes there, nothing is copied.
    const frame = Buffer.from(bytes.buffer, bytes.byteOffset - header, header + bytes.length)
    writeWsHeader(frame, OPCODE_BINARY, bytes.length)
    return frame
  }
  const frame = Buffer.allocUnsafe(header + bytes.length)
  writeWsHeader(frame, OPCODE_BINARY, bytes.length)
  frame.set(bytes, header)
  return frame
}

/** Header bytes for a payload of `length` bytes (7-bit, 16-bit or 64-bit length). */
function headerSize (length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10
}

/** Header bytes of a written frame, from its second byte. */
function headerSizeOf (second: number): number {
  const short = second & 0x7f
  return short < 126 ? 2 : short === 126 ? 4 : 10
}

function writeWsHeader (frame: Buffer, opcode: number, length: number): void {
  frame[0] = FIN | opcode
  if (length < 126) {
    frame[1] = length
  } else if (length < 0x10000) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
}
