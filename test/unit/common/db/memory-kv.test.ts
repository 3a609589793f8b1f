import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryKv, memoryKvOpener } from '../../../../common/db/memory-kv.ts';
import type { OrderedKv } from '../../../../common/db/kv.ts';
import { suite } from '../../../conformance/ordered-kv.ts';

const open = memoryKvOpener();
let n = 0;
const paths = new Map<OrderedKv, string>();

suite('MemoryKv', {
  async open() {
    const path = `mem${n++}`;
    const kv = await open(path);
    paths.set(kv, path);
    return kv;
  },
  async reopen(kv) {
    const path = paths.get(kv) as string;
    await kv.close();
    const again = await open(path);
    paths.set(again, path);
    return again;
  },
  cleanup: async () => {},
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

test('MemoryKv.loseUnsynced undoes the batches written with sync: false since the last synced one, newest first', async () => {
  const kv = new MemoryKv();
  await kv.batch([{ type: 'put', key: 'a', value: bytes('a1') }]);
  await kv.batch([{ type: 'put', key: 'a', value: bytes('a2') }, { type: 'put', key: 'b', value: bytes('b1') }], { sync: false });
  await kv.batch([{ type: 'put', key: 'b', value: bytes('b2') }, { type: 'del', key: 'a' }], { sync: false });
  kv.loseUnsynced();
  assert.equal((await kv.getMany(['a', 'b'])).map(text), ['a1', undefined]);
  // A synced batch (or a flush) makes everything before it durable.
  await kv.batch([{ type: 'put', key: 'c', value: bytes('c1') }], { sync: false });
  await kv.batch([{ type: 'put', key: 'd', value: bytes('d1') }]);
  await kv.batch([{ type: 'put', key: 'e', value: bytes('e1') }], { sync: false });
  assert.is(await kv.flush(), true);
  await kv.batch([{ type: 'put', key: 'f', value: bytes('f1') }], { sync: false });
  kv.loseUnsynced();
  assert.equal((await kv.getMany(['c', 'd', 'e', 'f'])).map(text), ['c1', 'd1', 'e1', undefined]);
});

test.run();
