import { createHash } from 'node:crypto';
import { pack, unpack } from 'msgpackr';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KvOp, KvRange, OrderedKv } from '../../../../common/db/kv.ts';
import { LevelKv } from '../../../../common/db/level-kv.ts';
import { HashPath } from '../../../../common/hash-path.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { Timestamp } from '../../../../common/timestamp.ts';
import { DiskFileDeleted, DiskFileNotExist, DiskFileQuarantined } from '../../../../object/diskfile/errors.ts';
import { HEADER_SIZE } from '../../../../object/diskfile/format.ts';
import { FsDiskFileManager } from '../../../../object/diskfile/fs.ts';
import { selectFiles } from '../../../../object/diskfile/ondisk.ts';
import type { DiskFile, ObjectLocation } from '../../../../object/diskfile/types.ts';
import { diskFileSuite, putObject } from '../../../conformance/diskfile.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'test');
const SMALL_MAX = 65_536;

/** A manager keeping objects of up to 64 KiB in each device's database, and what it opened. */
async function harness(dirPath?: string) {
  const dir = dirPath ? { path: dirPath, remove: async () => {} } : await makeTempDir();
  await mkdir(join(dir.path, 'sda'), { recursive: true });
  const clock = new ManualClock();
  const dbs = new Map<string, OrderedKv>();
  let batches = 0;
  const manager = new FsDiskFileManager({
    devices: dir.path,
    mountCheck: false,
    hashPath,
    clock,
    logger: nullLogger,
    smallObjects: {
      maxBytes: SMALL_MAX,
      open: async (path) => {
        const kv = await LevelKv.open(path, { sync: true });
        const batch = kv.batch.bind(kv);
        kv.batch = (ops: readonly KvOp[]) => {
          batches += 1;
          return batch(ops);
        };
        dbs.set(path, kv);
        return kv;
      },
    },
  });
  const hashDir = (loc: ObjectLocation): string => {
    const hash = hashPath.hash(loc.account, loc.container, loc.object);
    return join(dir.path, loc.device, 'objects', String(loc.partition), hash.slice(-3), hash);
  };
  /** The record keys of the device's database (`marks` for its changed-suffix marks). */
  const keys = async (device = 'sda', range: KvRange = { lt: 'changed/' }): Promise<string[]> => {
    const kv = dbs.get(join(dir.path, device, 'objects-db'));
    if (!kv) return [];
    const it = kv.iterator(range);
    const out: string[] = [];
    for (let page = await it.nextv(100); page.length > 0; page = await it.nextv(100)) out.push(...page.map(([k]) => k));
    await it.close();
    return out;
  };
  const marks = async (device = 'sda'): Promise<string[]> => keys(device, { gte: 'changed/', lt: 'changed/\u00ff' });
  /** The device's database, opened by the manager. */
  const db = (device = 'sda'): OrderedKv => {
    const kv = dbs.get(join(dir.path, device, 'objects-db'));
    assert.ok(kv, `${device}'s database is open`);
    return kv;
  };
  return { dir, clock, manager, hashDir, db, keys, marks, batches: () => batches };
}

/** Flips the byte at `at` of the `.data` file in an object's database record. */
async function damage(kv: OrderedKv, key: string, at: number): Promise<void> {
  const record = unpack((await kv.get(key)) as Uint8Array) as Record<string, Uint8Array>;
  const name = Object.keys(record).find((n) => n.endsWith('.data'));
  assert.ok(name, 'a data file in the database');
  const bytes = Buffer.from(record[name] as Uint8Array);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  await kv.batch([{ type: 'put', key, value: pack({ ...record, [name]: bytes }) }]);
}

/** An object's record key in its device's database. */
const recordKey = (partition: number, hash: string): string => `${partition}/${hash.slice(-3)}/${hash}`;
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const loc = (object: string, partition = 7): ObjectLocation => ({ device: 'sda', partition, account: 'a', container: 'c', object });
const ts = (s: number): Timestamp => Timestamp.parse(1_700_000_000 + s);

async function readAll(df: DiskFile): Promise<Buffer> {
  const reader = await df.open();
  const parts: Buffer[] = [];
  for await (const chunk of reader.read()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

diskFileSuite('fs, small objects in a database', async () => {
  const { dir, clock, manager, hashDir, db } = await harness();
  return {
    manager,
    clock,
    device: 'sda',
    missingDevice: 'sdz',
    async corrupt(location, offset) {
      const at = offset === 'header' ? 20 : HEADER_SIZE + offset + Math.floor(offset / 65_536) * 8;
      const onDisk = (await readdir(hashDir(location)).catch(() => [] as string[])).find((f) => f.endsWith('.data'));
      if (onDisk) {
        // A large object of the suite: a file.
        const handle = await open(join(hashDir(location), onDisk), 'r+');
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, at);
        byte[0] = (byte[0] as number) ^ 0xff;
        await handle.write(byte, 0, 1, at);
        await handle.close();
        return;
      }
      const hash = hashPath.hash(location.account, location.container, location.object);
      await damage(db(location.device), recordKey(location.partition, hash), at);
    },
    cleanup: async () => {
      await manager.close();
      await dir.remove();
    },
  };
});

test('a small object is kept in the device database (no object directory), is read back whole, and survives a restart', async () => {
  const { dir, manager, hashDir, keys } = await harness();
  try {
    const body = Buffer.from('hello small world');
    const df = await manager.diskFile(loc('o'));
    await putObject(df, body, ts(1));
    assert.equal(await readdir(hashDir(loc('o'))).catch(() => 'no directory'), 'no directory');
    assert.equal(await keys(), [recordKey(7, df.hash)]);
    assert.equal([...(await manager.small?.files('sda', 7, df.hash) ?? new Map()).keys()], [`${ts(1).internal}.data`]);
    assert.equal(await readAll(df), body);
    assert.is((await df.readMetadata()).metadata['ETag'], md5(body));
    await manager.close();
    const again = await harness(dir.path);
    const reopened = await again.manager.diskFile(loc('o'));
    assert.equal(await readAll(reopened), body);
    assert.equal(await again.manager.partitions('sda'), [7]);
    await again.manager.close();
  } finally {
    await dir.remove();
  }
});

test('objects above the size limit, or of unknown size, are files as before', async () => {
  const { dir, manager, hashDir, keys } = await harness();
  try {
    const big = Buffer.alloc(SMALL_MAX + 1, 7);
    await putObject(await manager.diskFile(loc('big')), big, ts(1), {}, '/a/c/big');
    assert.equal(await readdir(hashDir(loc('big'))), [`${ts(1).internal}.data`]);
    const unknown = await (await manager.diskFile(loc('chunked'))).create(undefined);
    await unknown.write(Buffer.from('abc'));
    await unknown.commit({ name: '/a/c/chunked', 'X-Timestamp': ts(2).internal, 'Content-Type': 'text/plain', 'Content-Length': '3', ETag: md5(Buffer.from('abc')) });
    assert.equal(await readdir(hashDir(loc('chunked'))), [`${ts(2).internal}.data`]);
    assert.equal(await keys(), []);
    assert.equal(await readAll(await manager.diskFile(loc('big'))), big);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('a tombstone in the database hides a data file written before small objects were kept there, and hashing removes the file', async () => {
  const { dir, clock, hashDir } = await harness();
  try {
    const before = new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger });
    await putObject(await before.diskFile(loc('o')), Buffer.from('old'), ts(1));
    const { manager } = await harness(dir.path);
    const df = await manager.diskFile(loc('o'));
    assert.equal(await readAll(df), Buffer.from('old'));
    await df.delete(ts(2));
    await rejects(df.readMetadata(), DiskFileDeleted);
    assert.equal([...(await manager.small?.files('sda', 7, df.hash) ?? new Map()).keys()], [`${ts(2).internal}.ts`]);
    // The write removed the data file it made obsolete.
    assert.equal(await readdir(hashDir(loc('o'))), []);
    const entries = [];
    for await (const e of manager.objects('sda', 7)) entries.push(e);
    assert.is(entries.length, 1);
    assert.is(entries[0]?.tombstoneTimestamp?.internal, ts(2).internal);
    assert.is(entries[0]?.dataTimestamp, undefined);
    await manager.close();
  } finally {
    await dir.remove();
  }
});

test('suffix hashes are the same whether files are kept in the database or on disk (replication compares them across nodes)', async () => {
  const { dir, clock, manager } = await harness();
  const plain = await makeTempDir();
  try {
    await mkdir(join(plain.path, 'sda'));
    const files = new FsDiskFileManager({ devices: plain.path, mountCheck: false, hashPath, clock, logger: nullLogger });
    for (const m of [manager, files]) {
      await putObject(await m.diskFile(loc('a')), Buffer.from('a'), ts(1), {}, '/a/c/a');
      await putObject(await m.diskFile(loc('b')), Buffer.alloc(SMALL_MAX * 2, 1), ts(2), {}, '/a/c/b');
      await (await m.diskFile(loc('c'))).delete(ts(3));
      await (await m.diskFile(loc('a'))).writeMetadata({ 'X-Timestamp': ts(4).internal, 'X-Object-Meta-Color': 'blue' });
    }
    const small = await manager.getHashes('sda', 7);
    assert.ok(Object.keys(small).length >= 1);
    assert.equal(small, await files.getHashes('sda', 7));
    // A new small object changes its suffix's hash.
    const df = await manager.diskFile(loc('d'));
    await putObject(df, Buffer.from('d'), ts(5), {}, '/a/c/d');
    const after = await manager.getHashes('sda', 7);
    assert.is.not(after[df.hash.slice(-3)], small[df.hash.slice(-3)]);
  } finally {
    await manager.close();
    await dir.remove();
    await plain.remove();
  }
});

test('regression: a crash that loses hashes.invalid after a small write no longer hides the change from replication (the mark is in the write\'s batch)', async () => {
  const { dir, manager, marks } = await harness();
  try {
    const df = await manager.diskFile(loc('o'));
    await putObject(df, Buffer.from('one'), ts(1));
    const first = await manager.getHashes('sda', 7);
    assert.equal(await marks(), [], 'marks covered by the saved hashes are cleared');
    await putObject(df, Buffer.from('two'), ts(2));
    assert.is((await marks()).length, 1);
    await manager.close();
    // The crash: nothing the write may have appended to hashes.invalid reached the disk.
    await writeFile(join(dir.path, 'sda', 'objects', '7', 'hashes.invalid'), '');
    const again = await harness(dir.path);
    const after = await again.manager.getHashes('sda', 7);
    assert.is.not(after[df.hash.slice(-3)], first[df.hash.slice(-3)]);
    assert.equal(await again.marks(), []);
    await again.manager.close();
  } finally {
    await dir.remove();
  }
});

test('clearing the changed-suffix marks read keeps a mark written after the read', async () => {
  const { dir, manager, marks } = await harness();
  try {
    const df = await manager.diskFile(loc('o'));
    await putObject(df, Buffer.from('one'), ts(1));
    const read = await (manager.small as NonNullable<typeof manager.small>).changed('sda', 7);
    assert.equal(read.suffixes, [df.hash.slice(-3)]);
    await putObject(df, Buffer.from('two'), ts(2));
    await read.clear();
    assert.is((await marks()).length, 1);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('a corrupt small object is quarantined under quarantined/objects and leaves the database', async () => {
  const { dir, manager, db, keys } = await harness();
  try {
    const df = await manager.diskFile(loc('o'));
    await putObject(df, Buffer.from('to be damaged'), ts(1));
    const [key] = await keys();
    await damage(db(), key as string, HEADER_SIZE);
    const reader = await df.open();
    await rejects((async () => {
      for await (const _ of reader.read()) { /* drain */ }
    })(), DiskFileQuarantined);
    assert.equal(await readdir(join(dir.path, 'sda', 'quarantined', 'objects', df.hash)), [`${ts(1).internal}.data`]);
    assert.equal(await keys(), []);
    assert.is(manager.quarantinedCount, 1);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('regression: an undecodable database record is quarantined (the object reads as missing), not an error on every request', async () => {
  const { dir, manager, db, keys } = await harness();
  try {
    const df = await manager.diskFile(loc('o'));
    await putObject(df, Buffer.from('lost'), ts(1));
    const [key] = await keys();
    const garbage = Buffer.from([0xc1, 0x00, 0x07]); // 0xc1: a byte msgpack never uses
    await db().batch([{ type: 'put', key: key as string, value: garbage }]);
    await rejects(df.readMetadata(), DiskFileNotExist);
    const kept = await readdir(join(dir.path, 'sda', 'quarantined', 'objects', df.hash));
    assert.is(kept.length, 1);
    assert.equal(await readFile(join(dir.path, 'sda', 'quarantined', 'objects', df.hash, kept[0] as string)), garbage);
    assert.equal(await keys(), []);
    assert.is(manager.quarantinedCount, 1);
    // A PUT after it is stored and read as usual.
    await putObject(df, Buffer.from('again'), ts(2));
    assert.equal(await readAll(df), Buffer.from('again'));
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('a write over an undecodable record, and a partition listing that meets one, quarantine it too', async () => {
  const { dir, manager, db, keys } = await harness();
  try {
    const a = await manager.diskFile(loc('a'));
    const b = await manager.diskFile(loc('b'));
    await putObject(a, Buffer.from('a'), ts(1), {}, '/a/c/a');
    await putObject(b, Buffer.from('b'), ts(1), {}, '/a/c/b');
    // Decodes, but not to a map of file names to bytes.
    await db().batch([{ type: 'put', key: recordKey(7, a.hash), value: pack([1, 2, 3]) }, { type: 'put', key: recordKey(7, b.hash), value: pack({ x: 'not bytes' }) }]);
    await a.delete(ts(2));
    await rejects(a.readMetadata(), DiskFileDeleted);
    const listed = [];
    for await (const e of manager.objects('sda', 7)) listed.push(e.hash);
    assert.equal(listed, [a.hash]);
    assert.equal(await keys(), [recordKey(7, a.hash)]);
    assert.is(manager.quarantinedCount, 2);
    assert.is((await readdir(join(dir.path, 'sda', 'quarantined', 'objects'))).length, 2);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('removing a partition or an unchanged handoff object removes its files from the database', async () => {
  const { dir, manager, keys, marks } = await harness();
  try {
    await putObject(await manager.diskFile(loc('x', 3)), Buffer.from('x'), ts(1), {}, '/a/c/x');
    await putObject(await manager.diskFile(loc('y', 4)), Buffer.from('y'), ts(1), {}, '/a/c/y');
    const [entry] = await (async () => {
      const out = [];
      for await (const e of manager.objects('sda', 4)) out.push(e);
      return out;
    })();
    assert.ok(entry);
    assert.ok(await manager.removeIfUnchanged('sda', 4, entry));
    await manager.removePartition('sda', 3);
    assert.equal(await keys(), []);
    // The removal of a handoff object marks its suffix; the partition removed keeps no marks.
    assert.ok((await marks()).every((k) => k.startsWith('changed/4/')));
    // The emptied partition's directory (which holds its hashes) stays, as it does for files.
    assert.equal(await manager.partitions('sda'), [4]);
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('small writes that arrive together share database batches (one flush for many objects)', async () => {
  const { dir, manager, batches } = await harness();
  try {
    const start = batches();
    await Promise.all(Array.from({ length: 32 }, async (_, i) => putObject(await manager.diskFile(loc(`o${i}`)), Buffer.from(`body ${i}`), ts(1), {}, `/a/c/o${i}`)));
    const used = batches() - start;
    assert.ok(used < 32, `${used} batches for 32 objects`);
    for (let i = 0; i < 32; i++) assert.equal(await readAll(await manager.diskFile(loc(`o${i}`))), Buffer.from(`body ${i}`));
  } finally {
    await manager.close();
    await dir.remove();
  }
});

test('a file name listed in both places (directory and database) is one file, never obsolete against itself', () => {
  const selection = selectFiles([`${ts(1).internal}.data`, `${ts(2).internal}.meta`, `${ts(1).internal}.data`, `${ts(2).internal}.meta`]);
  assert.is(selection.data?.name, `${ts(1).internal}.data`);
  assert.is(selection.meta?.name, `${ts(2).internal}.meta`);
  assert.equal(selection.obsolete, []);
});

test.run();
