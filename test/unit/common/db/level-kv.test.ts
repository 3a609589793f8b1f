import { readdir } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LevelKv } from '../../../../common/db/level-kv.ts';
import type { OrderedKv } from '../../../../common/db/kv.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';
import { suite } from '../../../conformance/ordered-kv.ts';

const dir = await makeTempDir('swiftlet-level-kv-');
let n = 0;
const paths = new Map<OrderedKv, string>();

suite('LevelKv', {
  async open() {
    const path = `${dir.path}/db${n++}`;
    const kv = await LevelKv.open(path);
    paths.set(kv, path);
    return kv;
  },
  async reopen(kv) {
    const path = paths.get(kv) as string;
    await kv.close();
    const again = await LevelKv.open(path);
    paths.set(again, path);
    return again;
  },
  cleanup: () => dir.remove(),
});

test('a synced LevelKv: flush after unsynced batches is true once LevelDB has one log, and they survive a reopen', async () => {
  const own = await makeTempDir('swiftlet-level-kv-sync-');
  const path = `${own.path}/synced`;
  const kv = await LevelKv.open(path, { sync: true });
  for (let i = 0; i < 50; i++) await kv.batch([{ type: 'put', key: `k${i}`, value: new Uint8Array(100) }], { sync: false });
  assert.is(await kv.flush(), true);
  assert.equal((await readdir(path)).filter((f) => f.endsWith('.log')).length, 1);
  await kv.close();
  const again = await LevelKv.open(path, { sync: true });
  assert.is((await again.getMany(['k0', 'k49'])).filter((v) => v !== undefined).length, 2);
  await again.close();
  await own.remove();
});

test.run();
