import { Unpackr } from 'msgpackr'
import { createMessagePackCodec } from '../lib/core/msgpack-codec.js'
import { MessagePackReader } from '../lib/core/msgpack-reader.js'
import { isDeepStrictEqual } from 'node:util'
const c = createMessagePackCodec()
const small = { event_type: 'echo.small', id: 17, timestamp: Date.now(), payload: { id: 1042, user: 'user-1042', action: 'cart.update', ts: 1732182012345, items: [{ sku: 'SKU-10042', qty: 2, price: 19.99 }, { sku: 'SKU-20817', qty: 1, price: 4.5 }], total: 44.48, currency: 'EUR', express: true } }
const SYMS = ['BTC-EUR', 'ETH-EUR', 'SOL-EUR', 'ADA-EUR']
const rows = { event_type: 'book.update', timestamp: Date.now(), payload: { topic: 'book.update', seq: 1, rows: Array.from({ length: 600 }, (_, i) => ({ id: 100000 + i, sym: SYMS[i % 4], px: Math.round(Math.random() * 1e7) / 100, qty: Math.floor(Math.random() * 1e5) / 1000, side: i % 2 ? 'bid' : 'ask' })) } }
const floats = { event_type: 'echo.floats', id: 3, timestamp: Date.now(), payload: { sensor: 'ecg', samples: Array.from({ length: 400 }, () => Math.random() * 4 - 2) } }
const u = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' } as never)
const r = new MessagePackReader(false)
for (const [name, v, N] of [['small', small, 200000], ['rows', rows, 500], ['floats', floats, 5000]] as const) {
  const bytes = Buffer.from(c.encodeEnvelope(v as never, 0))
  if (!isDeepStrictEqual(u.unpack(bytes), r.read(bytes))) console.log('MISMATCH', name)
  for (let k = 0; k < 3; k++) {
    let t = process.hrtime.bigint()
    for (let i = 0; i < N; i++) u.unpack(bytes)
    const a = Number(process.hrtime.bigint() - t) / N
    t = process.hrtime.bigint()
    for (let i = 0; i < N; i++) r.read(bytes)
    const b = Number(process.hrtime.bigint() - t) / N
    console.log(name, bytes.length, 'msgpackr', a.toFixed(0), 'reader', b.toFixed(0), 'ns', (b / a).toFixed(2))
  }
}
