/**
 * The dtype table (lib/core/dtypes.ts) is the one list of typed arrays that travel as
 * `__ndarray__`: the codecs, NdArray, the generated `.d.ts` and PROTOCOL.md agree with it.
 */
import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { DTYPE_TABLE, dtypeInfo } from '../lib/core/dtypes.js'
import { schemaToType } from '../lib/schema/typescript.js'
import { DTYPES, NdArray, createJsonCodec, createMessagePackCodec } from '../lib/index.js'

const names = Object.keys(DTYPE_TABLE)

test('each row agrees with its typed array class, and the table is frozen', async (t) => {
  t.equal(names.length, 10)
  for (const [name, info] of Object.entries(DTYPE_TABLE)) {
    t.equal(info.bytesPerElement, info.Class.BYTES_PER_ELEMENT, `${name}: bytes per element`)
    t.equal(info.typeName, info.Class.name, `${name}: TypeScript type name`)
    t.ok(Object.isFrozen(info), `${name}: row frozen`)
  }
  t.ok(Object.isFrozen(DTYPE_TABLE))
  t.equal(dtypeInfo('float32'), DTYPE_TABLE.float32)
  for (const notOne of ['float16', 'toString', '__proto__', 'constructor', 1, undefined]) t.equal(dtypeInfo(notOne), undefined, String(notOne))
})

test('DTYPES, NdArray and the generated .d.ts derive from the table', async (t) => {
  t.same(Object.keys(DTYPES), names)
  for (const [name, info] of Object.entries(DTYPE_TABLE)) {
    t.equal(DTYPES[name], info.Class, `DTYPES.${name}`)
    const schema = NdArray(name as keyof typeof DTYPE_TABLE)
    t.equal(schemaToType(schema as never), info.typeName, `.d.ts type of NdArray('${name}')`)
  }
})

test('every dtype round-trips through both codecs as its own class', async (t) => {
  for (const codec of [createMessagePackCodec(), createJsonCodec()]) {
    for (const [name, info] of Object.entries(DTYPE_TABLE)) {
      const array = new info.Class(new ArrayBuffer(3 * info.bytesPerElement), 0, 3)
      const back = (codec.decode(codec.encode({ array })) as { array: unknown }).array
      t.ok(back instanceof info.Class, `${codec.name} ${name}`)
      t.equal((back as ArrayBufferView).byteLength, 3 * info.bytesPerElement)
    }
  }
})

test('PROTOCOL.md lists the table\'s dtypes, in its order', async (t) => {
  const protocol = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8')
  const sentence = /`dtype` is one of\s+([^;]+);/.exec(protocol)?.[1] ?? ''
  t.same([...sentence.matchAll(/`(\w+)`/g)].map((m) => m[1]), names)
})
