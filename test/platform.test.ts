import { test } from 'tap'
import zlib from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { crc32, crc32Portable, nodePlatform } from '../lib/platform/node.js'
import { webPlatform } from '../lib/platform/web.js'
import { rejectsWith } from './helpers.js'

test('native zlib.crc32 and the crc-32 package agree', async (t) => {
  t.equal(typeof (zlib as unknown as { crc32?: unknown }).crc32, 'function', 'this Node has native crc32 (>= 20.15)')
  t.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the CRC-32/IEEE check value')
  t.equal(crc32Portable(new TextEncoder().encode('123456789')), 0xcbf43926)
  t.equal(webPlatform.crc32(new Uint8Array(0)), 0)
  for (let i = 0; i < 200; i++) {
    const data = randomBytes(Math.floor(Math.random() * 5000))
    const offset = Math.floor(Math.random() * Math.min(16, data.length))
    const view = data.subarray(offset) // unaligned views too
    const native = nodePlatform.crc32(view)
    if (native !== webPlatform.crc32(view)) t.fail(`mismatch on ${view.length} bytes`)
    t.ok(native >= 0 && native <= 0xffffffff)
  }
})

const text = new TextEncoder().encode('ecg '.repeat(5000))

for (const platform of [nodePlatform, webPlatform]) {
  for (const algorithm of ['gzip', 'deflate'] as const) {
    test(`${platform.name} ${algorithm}: round trip, and both platforms read each other`, async (t) => {
      const packed = await platform.compress(algorithm, text, 6)
      t.ok(packed.length < text.length / 10)
      t.same(Buffer.from(await platform.decompress(algorithm, packed, 1 << 20)), Buffer.from(text))
      const other = platform === nodePlatform ? webPlatform : nodePlatform
      t.same(Buffer.from(await other.decompress(algorithm, packed, 1 << 20)), Buffer.from(text))
      const magic = algorithm === 'gzip' ? [0x1f, 0x8b] : [0x78]
      t.same([...packed.subarray(0, magic.length)], magic, 'gzip or zlib (RFC 1950) framing')
    })

    test(`${platform.name} ${algorithm}: a decompression bomb fails with 0x102 at the limit`, async (t) => {
      // 200 MB of zeros compress to about 200 KB; the limit is 1 MiB.
      const bomb = algorithm === 'gzip' ? zlib.gzipSync(Buffer.alloc(200e6), { level: 9 }) : zlib.deflateSync(Buffer.alloc(200e6), { level: 9 })
      t.ok(bomb.length < 250_000)
      const before = process.memoryUsage().rss
      const err = await rejectsWith(t, () => platform.decompress(algorithm, bomb, 1 << 20), 'WIREBOX_ERR_DECOMPRESSED_TOO_LARGE', 0x102)
      t.ok(err instanceof RangeError)
      // past the inline budget (1 MiB) the node platform inflates in the pool: bounded there too
      await rejectsWith(t, () => platform.decompress(algorithm, bomb, 8 << 20), 'WIREBOX_ERR_DECOMPRESSED_TOO_LARGE', 0x102)
      const big = Buffer.alloc(3 << 20, 7)
      const packed = await platform.compress(algorithm, big, 6)
      t.same(Buffer.from(await platform.decompress(algorithm, packed, 4 << 20)), big, '3 MiB within a 4 MiB limit')
      t.ok(process.memoryUsage().rss - before < 100e6, 'did not inflate the whole 200 MB')
    })

    test(`${platform.name} ${algorithm}: corrupt, truncated and trailing-garbage input fail with 0x103`, async (t) => {
      const packed = Buffer.from(await nodePlatform.compress(algorithm, text, 6))
      const corrupt = Buffer.from(packed)
      const middle = Math.floor(corrupt.length / 2)
      corrupt.writeUInt16BE(corrupt.readUInt16BE(middle) ^ 0xffff, middle)
      await rejectsWith(t, () => platform.decompress(algorithm, corrupt, 1 << 20), 'WIREBOX_ERR_DECOMPRESSION_FAILED', 0x103)
      await rejectsWith(t, () => platform.decompress(algorithm, packed.subarray(0, packed.length - 5), 1 << 20), 'WIREBOX_ERR_DECOMPRESSION_FAILED', 0x103)
      await rejectsWith(t, () => platform.decompress(algorithm, Buffer.from('not compressed at all'), 1 << 20), 'WIREBOX_ERR_DECOMPRESSION_FAILED', 0x103)
      if (platform === nodePlatform || algorithm === 'gzip') {
        // Node's DecompressionStream('deflate') ignores trailing bytes (browsers' refuse them).
        await rejectsWith(t, () => platform.decompress(algorithm, Buffer.concat([packed, Buffer.from([1, 2, 3])]), 1 << 20), 'WIREBOX_ERR_DECOMPRESSION_FAILED', 0x103)
      }
    })
  }
}
