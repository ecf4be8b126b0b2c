/**
 * The client's encoder and decoder for what the server announced in its negotiation (PROTOCOL.md
 * section 1), and the VERSION_CHECK that confirms it. For `msgpack-compact` the layout is compiled
 * from the client's protocol and must be the server's (PROTOCOL.md 9.1).
 *
 * Connections that negotiated the same thing share what can be shared: one encoder (an encoder
 * keeps nothing of a connection: its chunk ids come from one counter, and what it learns of
 * compression holds for every connection alike), and one frozen settings and options object for
 * their decoders. A decoder holds a connection's partial chunked messages, so each has its own.
 */
import { MessageDecoder, MessageEncoder } from '../core/wire.js'
import type { WireSettings } from '../core/wire.js'
import type { CodecOptions } from '../core/codec.js'
import type { Platform } from '../core/platform.js'
import { assertSameLayout, compileLayout } from '../core/compact/layout.js'
import type { CompactLayout } from '../core/compact/layout.js'
import { handshakeSettings, negotiatedSettings } from '../session/handshake.js'
import type { Negotiation } from '../../schemas/negotiation.js'
import type { ProtocolDefinition } from '../protocol.js'

/** What the client speaks after the negotiation. */
export interface NegotiatedWire {
  encoder: MessageEncoder
  decoder: MessageDecoder
  /** The VERSION_CHECK payload. */
  versionCheck: { version: number, encoding: string, layout_hash?: string }
}

/** What connections with the same negotiation share. */
interface SharedWire {
  encoder: MessageEncoder
  decoderSettings: Readonly<WireSettings>
  context: Readonly<{ platform: Platform, codec: CodecOptions | undefined, layout: CompactLayout | undefined }>
}

const NONE = {}
/**
 * Negotiations remembered per platform, codec options and layout: the settings come from the
 * server, so a server that varies them (or many servers) must not grow the cache for ever.
 * Beyond this many, a connection gets a wire of its own.
 */
export const MAX_SHARED_WIRES = 32
// platform -> codec options -> layout -> the negotiated settings, as a string -> what is shared.
const made = new WeakMap<Platform, WeakMap<object, WeakMap<object, Map<string, SharedWire>>>>()

function sharedWire (negotiation: Negotiation, platform: Platform, codec: CodecOptions | undefined, layout: CompactLayout | undefined): SharedWire {
  let byCodec = made.get(platform)
  if (byCodec === undefined) made.set(platform, byCodec = new WeakMap())
  let byLayout = byCodec.get(codec ?? NONE)
  if (byLayout === undefined) byCodec.set(codec ?? NONE, byLayout = new WeakMap())
  let bySettings = byLayout.get(layout ?? NONE)
  if (bySettings === undefined) byLayout.set(layout ?? NONE, bySettings = new Map())
  const settings = negotiatedSettings(negotiation)
  const key = JSON.stringify(settings)
  let wire = bySettings.get(key)
  if (wire === undefined) {
    const context = Object.freeze({ platform, codec, layout })
    const { encoding, version, compression, maxMessageSize } = settings
    wire = {
      encoder: new MessageEncoder(settings, context),
      decoderSettings: Object.freeze({ encoding, version, compression, maxMessageSize }),
      context
    }
    if (bySettings.size < MAX_SHARED_WIRES) bySettings.set(key, wire)
  }
  return wire
}

/** Throws WIREBOX_ERR_LAYOUT_MISMATCH when compact schemas differ from the server's. */
export function negotiatedWire (negotiation: Negotiation, protocol: ProtocolDefinition | undefined, platform: Platform, codec: CodecOptions | undefined): NegotiatedWire {
  let layout: CompactLayout | undefined
  if (negotiation.encoding === 'msgpack-compact') {
    layout = compileLayout(protocol ?? {})
    assertSameLayout(layout, negotiation.layout)
  }
  const wire = sharedWire(negotiation, platform, codec, layout)
  return {
    encoder: wire.encoder,
    decoder: new MessageDecoder(wire.decoderSettings, wire.context),
    versionCheck: { version: negotiation.version, encoding: negotiation.encoding, ...(layout === undefined ? {} : { layout_hash: layout.hash }) }
  }
}

/** A decoder for the first message of a connection, read in the handshake's form. */
export function handshakeDecoder (input: Uint8Array | string, platform: Platform, codec: CodecOptions | undefined): MessageDecoder {
  return new MessageDecoder(handshakeSettings(input), { platform, codec })
}
