/**
 * Regression: msgpackr before 2.1.2 could be driven to a fatal out-of-memory by a small chain of
 * nested array headers (24,000 x `dc ff ff`, 70 KB; msgpackr PRs #199 and #200). The guard
 * rejects such input before msgpackr reads it, whatever msgpackr's version.
 */
import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { createMessagePackCodec, MessageDecoder, MessageType } from '../../lib/index.js'
import { nodePlatform } from '../../lib/platform/node.js'
import { rawFrame, rejectsWith } from '../helpers.js'

test('24,000 nested array-16 headers fail fast with 0x200 and no allocation', async (t) => {
  const hostile = Buffer.alloc(24_000 * 3)
  for (let i = 0; i < hostile.length; i += 3) hostile.set([0xdc, 0xff, 0xff], i)
  const before = process.memoryUsage().rss
  // the depth limit stops it at level 65; without that limit, the counts are found to be lies
  await rejectsWith(t, () => createMessagePackCodec().decode(hostile), 'WIREBOX_ERR_TOO_DEEP', 0x200)
  await rejectsWith(t, () => createMessagePackCodec({ maxDepth: 10_000 }).decode(hostile), 'WIREBOX_ERR_DECODE_FAILED', 0x200)
  const shallow = Buffer.from([0x91, 0xdc, 0xff, 0xff, 0x01]) // [array of 65535 entries, 1 present]
  await rejectsWith(t, () => createMessagePackCodec().decode(shallow), 'WIREBOX_ERR_DECODE_FAILED', 0x200)
  const decoder = new MessageDecoder({ encoding: 'messagepack', version: 3, compression: 'none' }, { platform: nodePlatform })
  await rejectsWith(t, () => decoder.decode(rawFrame({ version: 3, type: MessageType.EVENT, payload: hostile })), 'WIREBOX_ERR_TOO_DEEP', 0x200)
  t.ok(process.memoryUsage().rss - before < 50e6, 'no memory blow-up')
})

test('the installed msgpackr is at least 2.1.3', async (t) => {
  const manifest = new URL('../../node_modules/msgpackr/package.json', import.meta.url)
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number)
  t.ok(major > 2 || (major === 2 && (minor > 1 || (minor === 1 && patch >= 3))), `msgpackr ${version}`)
})
