import { createHash } from 'node:crypto';
import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackupObjectStore } from '../../compute/volume/backup/object-store.ts';
import { BackupObjectMissing, BackupStoreError } from '../../compute/volume/backup/store-errors.ts';
import { rejects } from '../helpers/rejects.ts';

/** The contract of `BackupObjectStore` (compute/volume/backup/object-store.ts), for the Swift store and its memory twin. */
export interface BackupObjectStoreFixture {
  open(): Promise<BackupObjectStore>;
  cleanup(): Promise<void>;
}

let n = 0;
const freshContainer = (): string => `backups-${n++}-${process.pid}`;

export function suite(name: string, fixture: BackupObjectStoreFixture): void {
  const test = uvuSuite(`BackupObjectStore conformance: ${name}`);
  let store: BackupObjectStore;
  test.before(async () => {
    store = await fixture.open();
  });
  test.after(() => fixture.cleanup());

  test('ensureContainer makes the container once and is harmless after', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    await store.put(c, 'a', new Uint8Array([1]));
    await store.ensureContainer(c);
    assert.equal(await store.listNames(c, ''), ['a']);
  });

  test('put then get gives the same bytes; a put replaces', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    await store.put(c, 'volume_x/20261205/az_nova_backup_1-00001', data);
    assert.equal(Buffer.from(await store.get(c, 'volume_x/20261205/az_nova_backup_1-00001')), Buffer.from(data));
    await store.put(c, 'volume_x/20261205/az_nova_backup_1-00001', new Uint8Array([9, 9]));
    assert.equal([...(await store.get(c, 'volume_x/20261205/az_nova_backup_1-00001'))], [9, 9]);
  });

  test('a put with the MD5 of its body stores it; a put whose body is not that MD5 is refused and stores nothing', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    const data = new Uint8Array(70_000).map((_, i) => (i * 13) & 0xff);
    await store.put(c, 'good', data, createHash('md5').update(data).digest('hex'));
    assert.equal(Buffer.from(await store.get(c, 'good')), Buffer.from(data));
    await rejects(store.put(c, 'bad', data, createHash('md5').update('other bytes').digest('hex')), BackupStoreError);
    await rejects(store.get(c, 'bad'), BackupObjectMissing);
    assert.equal(await store.listNames(c, ''), ['good']);
  });

  test('getInto reads the bytes into the memory given when they fit, else into their own; a missing object is BackupObjectMissing', async () => {
    if (!store.getInto) return;
    const c = freshContainer();
    await store.ensureContainer(c);
    const data = new Uint8Array(300_000).map((_, i) => (i * 11) & 0xff);
    await store.put(c, 'o', data);
    const into = new Uint8Array(new SharedArrayBuffer(400_000));
    const got = await store.getInto(c, 'o', into);
    assert.is(got.buffer, into.buffer, 'read into the memory given');
    assert.equal(Buffer.from(got), Buffer.from(data));
    const small = new Uint8Array(1000);
    const own = await store.getInto(c, 'o', small);
    assert.is.not(own.buffer, small.buffer);
    assert.equal(Buffer.from(own), Buffer.from(data));
    await rejects(store.getInto(c, 'nope', into), BackupObjectMissing);
  });

  test("several getInto at once of objects of a few MiB (a restore's GETs) each read every byte, and the objects read the same after (received memory is released once copied)", async () => {
    if (!store.getInto) return;
    const c = freshContainer();
    await store.ensureContainer(c);
    const size = 6 * 1024 * 1024 + 12_345;
    const objects = [1, 2, 3, 4].map((seed) => new Uint8Array(size).map((_, i) => (i * seed * 7 + (i >> 12)) & 0xff));
    for (const [i, data] of objects.entries()) await store.put(c, `o${i}`, data);
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(objects.map((_, i) => (store.getInto as NonNullable<typeof store.getInto>)(c, `o${i}`, new Uint8Array(new SharedArrayBuffer(8 * 1024 * 1024)))));
      for (const [i, data] of objects.entries()) assert.ok(Buffer.from(got[i] as Uint8Array).equals(data), `o${i}, round ${round}`);
    }
    assert.ok(Buffer.from(await store.get(c, 'o2')).equals(objects[2] as Uint8Array));
  });

  test('get of a missing object is BackupObjectMissing; delete of one is no error', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    await rejects(store.get(c, 'nope'), BackupObjectMissing);
    await store.delete(c, 'nope');
  });

  test('listNames gives the names under the prefix in order, and only those', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    for (const name of ['p/b-00002', 'p/b-00001', 'p/b_metadata', 'p/c-00001', 'q/b-00001']) await store.put(c, name, new Uint8Array([1]));
    assert.equal(await store.listNames(c, 'p/b'), ['p/b-00001', 'p/b-00002', 'p/b_metadata']);
    await store.delete(c, 'p/b-00001');
    assert.equal(await store.listNames(c, 'p/b'), ['p/b-00002', 'p/b_metadata']);
    assert.equal(await store.listNames(c, 'zzz'), []);
  });

  test.run();
}
