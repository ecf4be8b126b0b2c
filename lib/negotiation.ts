/**
 * The handshake: encoding, version and compression from the query string and from
 * `Sec-WebSocket-Protocol` (`wirebox.v<version>.<encoding>[.<compression>]`), the query string
 * winning where both are given (PROTOCOL.md section 1).
 */
import type { CompressionAlgorithm, Version } from './core/constants.js'
import type { Encoding } from './core/codec.js'
import type { ResolvedOptions } from './options.js'
import { errors } from './errors.js'
import type { WireboxError } from './errors.js'

/** What a connection negotiated. */
export interface Negotiated {
  encoding: Encoding
  version: Version
  compression: CompressionAlgorithm | 'none'
  /** True when the requested encoding is not supported (JSON was chosen, or messagepack for msgpack-compact). */
  fallback: boolean
  /** The encoding asked for, when it fell back. */
  requestedEncoding: string | undefined
}

/** The outcome: the settings, or the refusal to send before closing. */
type Negotiation = { ok: true, negotiated: Negotiated } | { ok: false, error: WireboxError, negotiated: Negotiated }

const PROTOCOL_VALUE = /^wirebox\.v(\d+)\.([a-z]+(?:-[a-z]+)?)(?:\.([a-z]+))?$/

/** The parts of the first offered `wirebox.*` subprotocol, or undefined. */
export function parseSubprotocols (header: string | string[] | undefined): { value: string, version: string, encoding: string, compression: string | undefined } | undefined {
  if (header === undefined) return undefined
  const offered = (Array.isArray(header) ? header.join(',') : header).split(',').map((v) => v.trim())
  for (const value of offered) {
    const match = PROTOCOL_VALUE.exec(value)
    if (match !== null) return { value, version: match[1] as string, encoding: match[2] as string, compression: match[3] }
  }
  return undefined
}

function single (value: unknown): string | undefined {
  if (Array.isArray(value)) return single(value[0])
  return typeof value === 'string' ? value : undefined
}

/** Negotiates from the query string and the subprotocol header. */
export function negotiate (query: Record<string, unknown>, subprotocolHeader: string | string[] | undefined, options: Readonly<ResolvedOptions>): Negotiation {
  const offered = parseSubprotocols(subprotocolHeader)
  const rawEncoding = single(query.encoding) ?? offered?.encoding
  const rawVersion = single(query.version) ?? offered?.version
  const rawCompression = single(query.compression) ?? offered?.compression

  let version: Version = options.maxVersion
  let error: WireboxError | undefined
  if (rawVersion !== undefined) {
    const n = /^\d{1,6}$/.test(rawVersion) ? Number(rawVersion) : NaN
    if (!Number.isInteger(n) || n < 1) {
      error = new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(rawVersion, `${options.minVersion}-${options.maxVersion}`)
    } else if (n < options.minVersion) {
      error = new errors.WIREBOX_ERR_UNSUPPORTED_VERSION(n, `${options.minVersion}-${options.maxVersion}`)
    } else {
      version = Math.min(n, options.maxVersion) as Version
    }
  }

  // msgpack-compact needs version 3 and a route that allows it; else it falls back to messagepack.
  let encoding: Encoding = 'json'
  let fallback = false
  let requestedEncoding: string | undefined
  if (rawEncoding !== undefined) {
    const wanted = rawEncoding.toLowerCase() === 'msgpack' ? 'messagepack' : rawEncoding.toLowerCase()
    if (wanted === 'json' || (wanted === 'messagepack' && options.encodings.includes(wanted)) ||
      (wanted === 'msgpack-compact' && version === 3 && options.encodings.includes(wanted))) {
      encoding = wanted
    } else {
      fallback = true
      requestedEncoding = rawEncoding
      if (wanted === 'msgpack-compact' && options.encodings.includes('messagepack')) encoding = 'messagepack'
    }
  }

  const allowed = options.compression.algorithms
  let compression: CompressionAlgorithm | 'none' = allowed[0] ?? 'none'
  if (rawCompression === 'none') compression = 'none'
  else if (rawCompression === 'gzip' || rawCompression === 'deflate') compression = allowed.includes(rawCompression) ? rawCompression : (allowed[0] ?? 'none')
  if (version === 1) compression = 'none'

  const negotiated: Negotiated = { encoding, version, compression, fallback, requestedEncoding }
  return error === undefined ? { ok: true, negotiated } : { ok: false, error, negotiated }
}
