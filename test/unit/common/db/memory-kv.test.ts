import { memoryKvOpener } from '../../../../common/db/memory-kv.ts';
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
