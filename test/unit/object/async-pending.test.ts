import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AsyncPendingStore, type AsyncUpdate, FsAsyncPendingStore, MemoryAsyncPendingStore } from '../../../object/async-pending.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const HASH = 'd41d8cd98f00b204e9800998ecf8427e';
const update = (policy?: string): AsyncUpdate => ({
  op: 'PUT',
  account: 'AUTH_a',
  container: 'c',
  obj: 'o',
  headers: { 'x-timestamp': '1700000000.00000', ...(policy !== undefined ? { 'x-backend-storage-policy-index': policy } : {}) },
});

async function all(store: AsyncPendingStore, device: string): Promise<{ id: string; update: AsyncUpdate }[]> {
  const out = [];
  for await (const entry of store.list(device)) out.push(entry);
  return out;
}

for (const [name, make] of [
  ['memory', async () => ({ store: new MemoryAsyncPendingStore() as AsyncPendingStore, cleanup: async () => undefined })],
  ['fs', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir.path, 'sda'));
    return { store: new FsAsyncPendingStore({ devices: dir.path, mountCheck: false }) as AsyncPendingStore, cleanup: () => dir.remove(), dir: dir.path };
  }],
] as const) {
  test(`${name}: the same object's updates in two policies are two pendings, each removed on its own`, async () => {
    const { store, cleanup } = await make();
    try {
      await store.save('sda', HASH, '1700000000.00000', update());
      await store.save('sda', HASH, '1700000000.00000', update('1'));
      const entries = await all(store, 'sda');
      assert.is(entries.length, 2);
      assert.is(await store.count('sda'), 2);
      assert.equal(entries.map((e) => e.update.headers['x-backend-storage-policy-index']).sort(), ['1', undefined]);
      const policy1 = entries.find((e) => e.update.headers['x-backend-storage-policy-index'] === '1');
      await store.remove('sda', (policy1 as { id: string }).id);
      const left = await all(store, 'sda');
      assert.equal(left.map((e) => e.update.headers['x-backend-storage-policy-index']), [undefined]);
    } finally {
      await cleanup();
    }
  });
}

test('fs: policy N\'s pendings are kept in async_pending-N, as Swift keeps them', async () => {
  const dir = await makeTempDir();
  try {
    await mkdir(join(dir.path, 'sda'));
    const store = new FsAsyncPendingStore({ devices: dir.path, mountCheck: false });
    await store.save('sda', HASH, '1700000000.00000', update('2'));
    await store.save('sda', HASH, '1700000001.00000', update('0'));
    assert.equal((await readdir(join(dir.path, 'sda'))).sort(), ['async_pending', 'async_pending-2']);
    assert.equal(await readdir(join(dir.path, 'sda', 'async_pending-2', HASH.slice(-3))), [`${HASH}-1700000000.00000`]);
  } finally {
    await dir.remove();
  }
});

test.run();
