/**
 * The client's encoder and decoder for what the server announced in its negotiation (PROTOCOL.md
 * section 1), and the VERSION_CHECK that confirms it. For `msgpack-compact` the layout is compiled
 * from the client's protocol and must be the server's (PROTOCOL.md 9.1).
 */
import { MessageDecoder, MessageEncoder } from '../core/wire.js'
import type { CodecOptions } from '../core/codec.js'
import type { Platform } from '../core/platform.js'
import { assertSameLayout, compileLayout } from '../core/compact/layout.js'
import type { CompactLayout } from '../core/compact/layout.js'
import { negotiatedSettings } from '../session/handshake.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import type { ProtocolDefinition } from '../protocol.js'

/** What the client speaks after the negotiation. */
export interface NegotiatedWire {
  encoder: MessageEncoder
  decoder: MessageDecoder
  /** The VERSION_CHECK payload. */
  versionCheck: { version: number, encoding: string, layout_hash?: string }
}

/** Throws WIREBOX_ERR_LAYOUT_MISMATCH when compact schemas differ from the server's. */
export function negotiatedWire (negotiation: Negotiation, protocol: ProtocolDefinition | undefined, platform: Platform, codec: CodecOptions | undefined): NegotiatedWire {
  const settings = negotiatedSettings(negotiation)
  let layout: CompactLayout | undefined
  if (negotiation.encoding === 'msgpack-compact') {
    layout = compileLayout(protocol ?? {})
    assertSameLayout(layout, negotiation.layout)
  }
  const context = { platform, codec, layout }
  return {
    encoder: new MessageEncoder(settings, context),
    decoder: new MessageDecoder({ encoding: settings.encoding, version: settings.version, compression: settings.compression, maxMessageSize: settings.maxMessageSize }, context),
    versionCheck: { version: negotiation.version, encoding: negotiation.encoding, ...(layout === undefined ? {} : { layout_hash: layout.hash }) }
  }
}
