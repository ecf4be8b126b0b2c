/**
 * The handshake, as both ends read it (PROTOCOL.md section 1). The server's first message,
 * PROTOCOL_NEGOTIATION, has one form whatever was negotiated: never compressed, never chunked,
 * a text frame of JSON on a JSON connection and a binary frame of MessagePack (of the negotiated
 * version, the header's first byte) otherwise. A client can therefore read it before it knows
 * anything else, and everything after it with the negotiated settings.
 */
import type { WireSettings } from '../core/wire.js'
import type { Version } from '../core/constants.js'
import type { LayoutSummary, Negotiation } from '../../schemas/negotiation.js'

/** How the first message of a connection is decoded: from the frame alone. */
export function handshakeSettings (input: Uint8Array | string): WireSettings {
  if (typeof input === 'string') return { encoding: 'json', version: 3, compression: 'none' }
  const version = (input[0] === 1 || input[0] === 2 ? input[0] : 3) as Version
  return { encoding: 'messagepack', version, compression: 'none' }
}

/** The wire settings a negotiation message announces, for the rest of the connection. */
export function negotiatedSettings (negotiation: Negotiation): WireSettings {
  return {
    encoding: negotiation.encoding,
    version: negotiation.version,
    compression: negotiation.compression,
    maxMessageSize: negotiation.max_message_size,
    compressionThreshold: negotiation.compression_threshold,
    ...(negotiation.chunk_size === undefined ? {} : { chunkSize: negotiation.chunk_size })
  }
}

/** What the server announces, besides the negotiated settings. */
interface ServerLimits {
  compressionThreshold: number
  maxMessageSize: number
  heartbeatIntervalMs: number
  chunkSize: number
}

/** The negotiation payload the server sends. */
export function negotiationPayload (
  negotiated: Pick<Negotiation, 'encoding' | 'version' | 'compression' | 'fallback'> & { requestedEncoding?: string | undefined },
  limits: ServerLimits,
  sessionId: string,
  layout?: LayoutSummary
): Negotiation {
  return {
    encoding: negotiated.encoding,
    version: negotiated.version,
    compression: negotiated.compression,
    compression_threshold: limits.compressionThreshold,
    max_message_size: limits.maxMessageSize,
    heartbeat_interval_ms: limits.heartbeatIntervalMs,
    session_id: sessionId,
    fallback: negotiated.fallback,
    chunk_size: limits.chunkSize,
    ...(negotiated.requestedEncoding === undefined ? {} : { requested_encoding: negotiated.requestedEncoding }),
    // msgpack-compact: the ids of events and requests and the layout hash (PROTOCOL.md section 9.1).
    ...(negotiated.encoding === 'msgpack-compact' && layout !== undefined ? { layout } : {})
  }
}
