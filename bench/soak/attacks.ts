/**
 * The hostile clients' repertoire: each attack either sends something on the hostile client's
 * own negotiated connection (`run`) or opens a connection of its own (`alone`, handshake
 * attacks) and returns what happened to it. The server is expected to answer with ERROR or close
 * with a code (PROTOCOL.md section 7), and to stay up for everyone else.
 */
import { randomBytes } from 'node:crypto'
import zlib from 'node:zlib'
import { pack } from 'msgpackr'
import { Flag, MessageType, encodeFrame, nodePlatform, writeHeader } from '../../lib/index.js'
import type { Version, WireFrame } from '../../lib/index.js'
import { ConnectError, Peer } from './peer.js'
import type { ConnectOptions } from './peer.js'

/** What attacks need to know. */
export interface AttackContext {
  /** The route, ws://host:port/path. */
  base: string
  /** The example's patient ids (topics `ecg/<id>`). */
  patients: string[]
  /** Uniform in [0, 1), seeded. */
  rand: () => number
  /** Data bytes per unfinished chunk. */
  chunkBytes: number
  /** SUBSCRIBEs in one `many-subscriptions` burst. */
  manySubscriptions: number
}

/** One attack. */
export interface Attack {
  readonly name: string
  /** What it sends, in a few words (for the report's legend). */
  readonly what: string
  /** Sends on a negotiated hostile connection. */
  run?: (peer: Peer, ctx: AttackContext) => Promise<void>
  /** Opens its own connection; resolves with the outcome (e.g. `HTTP 431`, `closed 1002`). */
  alone?: (ctx: AttackContext) => Promise<string>
}

const PROTOTYPE_NAMES = ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable']
const utf8 = new TextEncoder()

function pick<T> (items: readonly T[], rand: () => number): T {
  return items[Math.floor(rand() * items.length)] as T
}

function version (peer: Peer): Version {
  return peer.settings?.version ?? 3
}

/** A binary frame around `body`, with a correct checksum. */
function frame (peer: Peer, type: number, body: Uint8Array, flags = 0): Uint8Array {
  return encodeFrame({ version: version(peer), type, flags, payload: body }, nodePlatform.crc32)
}

/** An envelope as the peer's encoding carries it in a binary frame (JSON bodies hold `type`). */
function body (peer: Peer, type: number, envelope: Record<string, unknown>): Uint8Array {
  return peer.settings?.encoding === 'json' ? utf8.encode(JSON.stringify({ type, ...envelope })) : packEnvelope(envelope)
}

/** MessagePack of an envelope, its timestamp an integer (msgpackr writes large numbers as float 64). */
function packEnvelope (envelope: Record<string, unknown>): Uint8Array {
  return pack({ ...envelope, timestamp: BigInt(Date.now()) })
}

/** A valid REQUEST or EVENT whose event_type is a property every object has. */
function byName (name: string, names?: readonly string[]): Attack {
  return {
    name,
    what: `REQUEST or EVENT with event_type ${names === undefined ? `"${name}"` : names.join('/')}`,
    run: async (peer, ctx) => {
      const type = ctx.rand() < 0.5 ? MessageType.REQUEST : MessageType.EVENT
      const eventType = names === undefined ? name : pick(names, ctx.rand)
      await peer.send(type, { event_type: eventType, id: peer.nextId(), payload: { patient_id: 'p1', samples: 10 } })
    }
  }
}

const bombs = new Map<string, Buffer>()
/** Compressed zeros that inflate to 1 MiB more than the server accepts (cached). */
function bomb (algorithm: 'gzip' | 'deflate', maxSize: number): Buffer {
  const key = `${algorithm}.${maxSize}`
  let bytes = bombs.get(key)
  if (bytes === undefined) {
    const zeros = Buffer.alloc(maxSize + 1024 * 1024)
    bytes = algorithm === 'gzip' ? zlib.gzipSync(zeros, { level: 9 }) : zlib.deflateSync(zeros, { level: 9 })
    bombs.set(key, bytes)
  }
  return bytes
}

let chunkData: Buffer | undefined
let hugeText = ''

/** Every attack, by name. */
export const ATTACKS: readonly Attack[] = [
  byName('constructor'),
  byName('__proto__'),
  byName('toString', PROTOTYPE_NAMES),
  {
    name: 'proto-key',
    what: 'payload with an own __proto__ key, or constructor.prototype',
    run: async (peer, ctx) => {
      const payload = ctx.rand() < 0.5
        ? JSON.parse('{"patient_id":"p1","samples":1,"__proto__":{"polluted":true}}') as unknown
        : { patient_id: 'p1', samples: 1, constructor: { prototype: { polluted: true } } }
      const envelope = { event_type: 'ecg.history', timestamp: Date.now(), id: peer.nextId(), payload }
      if (peer.settings?.encoding === 'json') {
        // JSON.stringify writes an own __proto__ key like any other key.
        peer.sendFrames([JSON.stringify({ type: MessageType.REQUEST, ...envelope })])
      } else {
        peer.sendFrames([frame(peer, MessageType.REQUEST, packEnvelope(envelope))])
      }
    }
  },
  {
    name: 'random-bytes',
    what: 'random bytes (1 B-4 KiB), sometimes behind a valid version and type; random text',
    run: async (peer, ctx) => {
      const bytes = randomBytes(1 + Math.floor(ctx.rand() * 4096))
      if (ctx.rand() < 0.5) {
        bytes[0] = version(peer)
        bytes[1] = pick([MessageType.EVENT, MessageType.REQUEST, MessageType.SUBSCRIBE, MessageType.ERROR], ctx.rand)
        bytes[2] = 0
      }
      peer.sendFrames([ctx.rand() < 0.8 ? bytes : bytes.toString('latin1')])
    }
  },
  {
    name: 'bad-checksum',
    what: 'a valid ecg.history REQUEST frame with its CRC-32 flipped',
    run: async (peer) => {
      const bytes = frame(peer, MessageType.REQUEST, body(peer, MessageType.REQUEST, { event_type: 'ecg.history', timestamp: Date.now(), id: peer.nextId(), payload: { patient_id: 'p1', samples: 10 } }))
      bytes[7] = (bytes[7] as number) ^ 0xff
      peer.sendFrames([bytes])
    }
  },
  {
    name: 'oversized-header',
    what: 'a header whose length says 4 GiB, max + 1, or more than the bytes sent',
    run: async (peer, ctx) => {
      const v = version(peer)
      const size = v === 3 ? 19 : 11
      const bytes = new Uint8Array(size + 16)
      const max = peer.negotiation?.max_message_size ?? 64 * 1024 * 1024
      const length = pick([0xffffffff, max + 1, 1000], ctx.rand)
      writeHeader(bytes, v, MessageType.EVENT, 0, length, 0)
      peer.sendFrames([bytes])
    }
  },
  {
    name: 'bad-header',
    what: 'version 9, type 0x77, reserved flags, 5-byte frame, empty EVENT, or a v1 frame',
    run: async (peer, ctx) => {
      const good = frame(peer, MessageType.EVENT, body(peer, MessageType.EVENT, { event_type: 'ecg.data', timestamp: Date.now() }))
      const kind = Math.floor(ctx.rand() * 6)
      let bytes: Uint8Array = good
      if (kind === 0) bytes[0] = 9
      else if (kind === 1) bytes[1] = 0x77
      else if (kind === 2) bytes[2] = 0xc0
      else if (kind === 3) bytes = good.subarray(0, 5)
      else if (kind === 4) bytes = frame(peer, MessageType.EVENT, new Uint8Array(0))
      else bytes = encodeFrame({ version: 1, type: MessageType.EVENT, payload: good.subarray(version(peer) === 3 ? 19 : 11) }, nodePlatform.crc32)
      peer.sendFrames([bytes])
    }
  },
  {
    name: 'unfinished-chunks',
    what: 'first chunks of 4-17 chunked messages (chunk data of --chunk-bytes), never finished',
    run: async (peer, ctx) => {
      chunkData ??= randomBytes(ctx.chunkBytes)
      const count = 4 + Math.floor(ctx.rand() * 14)
      const compressed = peer.settings?.compression !== 'none' && ctx.rand() < 0.3 ? Flag.COMPRESSED : 0
      for (let i = 0; i < count; i++) {
        const payload = Buffer.allocUnsafe(8 + chunkData.length)
        payload.writeUInt32BE(Math.floor(ctx.rand() * 0xffffffff), 0)
        payload.writeUInt16BE(0, 4)
        payload.writeUInt16BE(2 + Math.floor(ctx.rand() * 65533), 6)
        chunkData.copy(payload, 8)
        peer.sendFrames([frame(peer, MessageType.EVENT, payload, Flag.CHUNKED | compressed)])
      }
    }
  },
  {
    name: 'since-zero',
    what: 'SUBSCRIBE since 0 to every patient topic and 20 new ones, then stop reading',
    run: async (peer, ctx) => {
      const fresh = Array.from({ length: 20 }, () => `ecg/z${Math.floor(ctx.rand() * 1e9)}`)
      for (const topic of [...ctx.patients.map((p) => `ecg/${p}`), ...fresh]) {
        await peer.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: peer.nextId(), payload: { topic, since: 0 } })
      }
      peer.pause()
    }
  },
  {
    name: 'many-subscriptions',
    what: 'a burst of --many-subs SUBSCRIBEs to new topics (ecg/constructor and ecg/__proto__ first), then stop reading',
    run: async (peer, ctx) => {
      const prefix = `ecg/m${Math.floor(ctx.rand() * 1e9)}-`
      const topics = ['ecg/constructor', 'ecg/__proto__', 'ecg/toString', ...Array.from({ length: Math.max(0, ctx.manySubscriptions - 3) }, (_, i) => `${prefix}${i}`)]
      for (const topic of topics) await peer.send(MessageType.SUBSCRIBE, { event_type: 'subscribe', id: peer.nextId(), payload: { topic } })
      peer.pause()
    }
  },
  {
    name: 'huge-error',
    what: 'an ERROR whose message is 4-16 MiB of "x" (compressed when negotiated: ~16 KB on the wire)',
    run: async (peer, ctx) => {
      const size = (4 + Math.floor(ctx.rand() * 13)) * 1024 * 1024
      if (hugeText.length < size) hugeText = 'x'.repeat(16 * 1024 * 1024)
      await peer.send(MessageType.ERROR, { event_type: 'error', payload: { code: 0x300, message: hugeText.slice(0, size) } })
    }
  },
  {
    name: 'inflate-bomb',
    what: 'a COMPRESSED EVENT that inflates to max message size + 1 MiB',
    run: async (peer) => {
      const algorithm = peer.settings?.compression === 'deflate' ? 'deflate' : 'gzip'
      const max = peer.negotiation?.max_message_size ?? 64 * 1024 * 1024
      peer.sendFrames([frame(peer, MessageType.EVENT, bomb(algorithm, max), Flag.COMPRESSED)])
    }
  },
  {
    name: 'deep-nesting',
    what: 'a payload nested 100,000 arrays deep',
    run: async (peer) => {
      const depth = 100_000
      if (peer.settings?.encoding === 'json') {
        peer.sendFrames([`{"type":1,"event_type":"ecg.data","timestamp":${Date.now()},"payload":${'['.repeat(depth)}${']'.repeat(depth)}}`])
        return
      }
      // A map of 3: event_type, timestamp, payload: [[[...nil...]]].
      const fields = ['event_type', 'ecg.data', 'timestamp', BigInt(Date.now()), 'payload'].map((v) => pack(v))
      const bytes = Buffer.concat([Buffer.from([0x83]), ...fields, Buffer.alloc(depth, 0x91), Buffer.from([0xc0])])
      peer.sendFrames([frame(peer, MessageType.EVENT, bytes)])
    }
  },
  {
    name: 'ping-flood',
    what: '3,000 PINGs at once (over the rate limit)',
    run: async (peer) => {
      const frames: WireFrame[] = []
      for (let i = 0; i < 3000; i++) frames.push(frame(peer, MessageType.PING, new Uint8Array(0)))
      peer.sendFrames(frames)
    }
  },
  {
    name: 'huge-http-header',
    what: 'a handshake with a 64 KiB header (own connection)',
    alone: async (ctx) => await outcome(ctx.base, 'encoding=messagepack&version=3', { headers: { 'x-soak': 'a'.repeat(64 * 1024) } })
  },
  {
    name: 'bad-handshake',
    what: 'odd query strings and subprotocols: version 0/-1/abc/1e20, repeated keys, __proto__ encodings (own connection)',
    alone: async (ctx) => {
      const queries = [
        'version=0', 'version=-1&encoding=messagepack', 'version=abc', 'version=100000000000000000000',
        'encoding=__proto__&version=3', 'encoding=constructor&compression=__proto__', 'compression=toString&encoding=msgpack',
        'version=3&version=2&encoding=json&encoding=messagepack', '__proto__[version]=0&encoding=json'
      ]
      if (ctx.rand() < 0.25) return await outcome(ctx.base, '', { protocols: [pick(['wirebox.v3.__proto__.gzip', 'wirebox.vconstructor.json', 'wirebox.v0.messagepack', 'wirebox.v3.messagepack.toString'], ctx.rand)] })
      return await outcome(ctx.base, pick(queries, ctx.rand))
    }
  }
]

/** Connects with an odd handshake; says what the server did. */
async function outcome (base: string, query: string, extra: Pick<ConnectOptions, 'headers' | 'protocols'> = {}): Promise<string> {
  let peer: Peer
  try {
    peer = await Peer.connect(base, { encoding: 'json', version: 3, compression: 'none' }, { query, timeoutMs: 10_000, ...extra })
  } catch (err) {
    return err instanceof ConnectError ? err.reason : String(err)
  }
  // A refused version is answered by ERROR and a close; give it a moment.
  const code = await Promise.race([peer.closed, new Promise<undefined>((resolve) => setTimeout(resolve, 500))])
  peer.terminate()
  const fallback = peer.negotiation?.fallback === true ? ', fallback' : ''
  return code === undefined ? `negotiated ${peer.negotiation?.encoding ?? '?'} v${peer.negotiation?.version ?? '?'}${fallback}` : `closed ${code} after negotiating`
}
