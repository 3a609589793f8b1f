import { createHash } from 'node:crypto';
import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackupObjectStore, PiecedBody } from '../../compute/volume/backup/object-store.ts';
import { BackupObjectMissing, BackupStoreError } from '../../compute/volume/backup/store-errors.ts';
import { rejects } from '../helpers/rejects.ts';

/** The contract of `BackupObjectStore` (compute/volume/backup/object-store.ts), for the Swift store and its memory twin. */
export interface BackupObjectStoreFixture {
  open(): Promise<BackupObjectStore>;
  cleanup(): Promise<void>;
}

/** `data` as a pieced body of pieces of `size`, lent: one buffer, filled again for each (`extra` more bytes at the end when set). */
function lentPieces(data: Uint8Array, size: number, extra = 0): PiecedBody {
  return {
    length: data.length,
    *pieces() {
      const buffer = new Uint8Array(size);
      for (let at = 0; at < data.length; at += size) {
        const piece = data.subarray(at, at + size);
        buffer.set(piece);
        yield buffer.subarray(0, piece.length);
        buffer.fill(0xee); // whatever the store kept of the piece it asked past is now wrong
      }
      if (extra > 0) yield new Uint8Array(extra);
    },
  };
}

/** Every byte of the object's stream, and the length it gave. */
async function streamed(store: BackupObjectStore, container: string, name: string): Promise<{ length: number | undefined; bytes: Buffer }> {
  const { length, pieces } = await store.getStream(container, name);
  const got: Buffer[] = [];
  for await (const piece of pieces) got.push(Buffer.from(piece));
  return { length, bytes: Buffer.concat(got) };
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

  test("a pieced body is stored as its bytes (pieces lent: each may be refilled once the next is asked for); getStream gives them back in order, with the length", async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    const data = new Uint8Array(2_500_000).map((_, i) => (i * 7 + (i >> 10)) & 0xff);
    for (const size of [1, 65_536, 1024 * 1024, 3_000_000]) {
      const name = `volume_x/az_nova_backup_1_sha256file-${size}`;
      await store.put(c, name, lentPieces(size === 1 ? data.subarray(0, 5000) : data, size));
      const expected = Buffer.from(size === 1 ? data.subarray(0, 5000) : data);
      assert.ok(Buffer.from(await store.get(c, name)).equals(expected), `pieces of ${size}`);
      const { length, bytes } = await streamed(store, c, name);
      assert.ok(length === undefined || length === expected.length);
      assert.ok(bytes.equals(expected), `streamed, pieces of ${size}`);
    }
    await store.put(c, 'empty', lentPieces(new Uint8Array(0), 10));
    assert.is((await streamed(store, c, 'empty')).bytes.length, 0);
    await rejects(store.getStream(c, 'nope'), BackupObjectMissing);
  });

  test('a pieced body whose pieces are not its length, or not the MD5 given, is refused and nothing is stored', async () => {
    const c = freshContainer();
    await store.ensureContainer(c);
    const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    await rejects(store.put(c, 'long', lentPieces(data, 65_536, 10)), BackupStoreError);
    await rejects(store.put(c, 'short', { length: data.length + 1, pieces: () => lentPieces(data, 65_536).pieces() }), BackupStoreError);
    await rejects(store.put(c, 'md5', lentPieces(data, 65_536), createHash('md5').update('other bytes').digest('hex')), BackupStoreError);
    await store.put(c, 'good', lentPieces(data, 65_536), createHash('md5').update(data).digest('hex'));
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
