import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoryKvOpener } from '../../../common/db/memory-kv.ts';
import { HashPath } from '../../../common/hash-path.ts';
import { nullLogger } from '../../../common/logger.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import { type AsyncUpdate, encodeAsyncUpdate, MemoryAsyncPendingStore } from '../../../object/async-pending.ts';
import { FsDiskFileManager } from '../../../object/diskfile/fs.ts';
import type { SmallFiles } from '../../../object/diskfile/small-files.ts';
import { KeptAsyncPendingStore } from '../../../object/kept-pendings.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const update = (obj: string): AsyncUpdate => ({ op: 'PUT', account: 'AUTH_a', container: 'c', obj, headers: { 'x-timestamp': Timestamp.parse(1).internal, 'x-size': '2', 'x-etag': 'e' } });

test('a small object committed with its container update keeps it beside the object; the store lists, counts and removes it with the files', async () => {
  const dir = await makeTempDir();
  await mkdir(join(dir.path, 'sda'));
  const clock = new ManualClock();
  const hashPath = new HashPath('', 'test');
  const manager = new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger, smallObjects: { maxBytes: 1024, open: memoryKvOpener() } });
  const inner = new MemoryAsyncPendingStore();
  const store = new KeptAsyncPendingStore(inner, new Map([['objects-db', manager.small as SmallFiles]]));
  try {
    const write = async (obj: string, size: number, pending: boolean): Promise<string | undefined> => {
      const df = await manager.diskFile({ device: 'sda', partition: 1, account: 'AUTH_a', container: 'c', object: obj });
      const writer = await df.create(size);
      await writer.write(Buffer.alloc(size));
      return writer.commit({ name: `/AUTH_a/c/${obj}`, 'X-Timestamp': Timestamp.parse(1).internal, 'Content-Length': String(size), ETag: 'd41d8cd98f00b204e9800998ecf8427e' }, pending ? { pending: encodeAsyncUpdate(update(obj)) } : {});
    };
    const kept = await write('small', 2, true);
    assert.match(kept ?? '', /^objects-db\/pending\/[0-9a-f]{32}-/);
    assert.is(await write('plain', 2, false), undefined, 'nothing kept when none is given');
    assert.is(await write('large', 4096, true), undefined, 'a file-stored object keeps none (its update goes the synced way)');
    await inner.save('sda', 'f'.repeat(32), Timestamp.parse(2).internal, update('saved'));

    const listed = [];
    for await (const entry of store.list('sda')) listed.push(entry);
    assert.equal(listed.map((e) => e.update.obj).sort(), ['saved', 'small']);
    assert.equal(listed.find((e) => e.update.obj === 'small')?.id, kept);
    assert.is(await store.count('sda'), 2);
    await store.remove('sda', kept as string);
    await store.remove('sda', listed.find((e) => e.update.obj === 'saved')?.id as string);
    assert.is(await store.count('sda'), 0);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test.run();
