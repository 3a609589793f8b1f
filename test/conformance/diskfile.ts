import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceUnavailableError } from '../../common/errors.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { DiskFileDeleted, DiskFileExpired, DiskFileNotExist, DiskFileQuarantined } from '../../object/diskfile/errors.ts';
import type { DiskFile, DiskFileManager, ObjectLocation } from '../../object/diskfile/types.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import { rejects } from '../helpers/rejects.ts';

/**
 * What a DiskFile implementation's test gives the suite. `corrupt` flips one byte of the
 * object's current data file at `offset` bytes into its data (only where
 * `supports.blockChecksums`), or in its header when `offset` is 'header'.
 */
export interface DiskFileHarness {
  readonly manager: DiskFileManager;
  readonly clock: ManualClock;
  readonly device: string;
  readonly missingDevice: string;
  corrupt?(location: ObjectLocation, offset: number | 'header'): Promise<void>;
  cleanup(): Promise<void>;
}

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of iterable) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** The bytes a read yields before it stops with `DiskFileQuarantined` (it must stop so). */
async function servedBeforeQuarantine(df: DiskFile): Promise<Buffer> {
  const reader = await df.open();
  const got: Buffer[] = [];
  await rejects(
    (async () => {
      for await (const chunk of reader.read()) got.push(Buffer.from(chunk));
    })(),
    DiskFileQuarantined,
  );
  return Buffer.concat(got);
}

/** Writes a whole object in `chunkSize` pieces, as a PUT would. */
export async function putObject(df: DiskFile, body: Buffer, timestamp: Timestamp, extra: Record<string, string> = {}, name = '/a/c/o', chunkSize = 65_536): Promise<void> {
  const writer = await df.create(body.length);
  for (let i = 0; i < body.length; i += chunkSize) await writer.write(body.subarray(i, i + chunkSize));
  await writer.commit({ name, 'X-Timestamp': timestamp.internal, 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length), ETag: md5(body), ...extra });
}

/** Runs the DiskFile conformance suite against `factory`'s implementation. */
export function diskFileSuite(name: string, factory: () => Promise<DiskFileHarness>): void {
  const test = suite(`DiskFile conformance: ${name}`);
  let h: DiskFileHarness;
  const loc = (object = 'o'): ObjectLocation => ({ device: h.device, partition: 7, account: 'a', container: 'c', object });
  const ts = (s: number): Timestamp => Timestamp.parse(1_700_000_000 + s);

  test.before.each(async () => {
    h = await factory();
  });
  test.after.each(async () => {
    await h.manager.close();
    await h.cleanup();
  });

  test('an object that was never written does not exist (and is not "deleted")', async () => {
    const df = await h.manager.diskFile(loc());
    await rejects(df.readMetadata(), (err: unknown) => err instanceof DiskFileNotExist && !(err instanceof DiskFileDeleted));
  });

  test('what is written reads back: bytes, ETag, length, metadata', async () => {
    const df = await h.manager.diskFile(loc());
    const body = randomBytes(300_000);
    await putObject(df, body, ts(1), { 'X-Object-Meta-Color': 'blue', 'Content-Type': 'image/png' });
    const state = await df.readMetadata();
    assert.is(state.metadata['ETag'], md5(body));
    assert.is(state.metadata['Content-Length'], '300000');
    assert.is(state.metadata['X-Object-Meta-Color'], 'blue');
    assert.is(state.metadata['Content-Type'], 'image/png');
    assert.is(state.metadata['name'], '/a/c/o');
    assert.is(state.contentLength, 300_000);
    assert.ok(state.dataTimestamp.equals(ts(1)));
    const reader = await df.open();
    assert.ok((await collect(reader.read())).equals(body));
    await reader.close();
  });

  test('an empty object is an object', async () => {
    const df = await h.manager.diskFile(loc());
    await putObject(df, Buffer.alloc(0), ts(1));
    const reader = await df.open();
    assert.is(reader.contentLength, 0);
    assert.is((await collect(reader.read())).length, 0);
    assert.is(reader.metadata['ETag'], 'd41d8cd98f00b204e9800998ecf8427e');
    await reader.close();
  });

  test('ranges read exactly their bytes, across block boundaries', async () => {
    const df = await h.manager.diskFile(loc());
    const body = randomBytes(200_000);
    await putObject(df, body, ts(1), {}, '/a/c/o', 10_000);
    const reader = await df.open();
    for (const [start, end] of [[0, 1], [65_535, 65_537], [1, 199_999], [131_072, 200_000], [199_999, 200_000], [0, 200_000], [70_000, 70_000]] as const) {
      assert.ok((await collect(reader.read(start, end))).equals(body.subarray(start, end)), `range ${start}-${end}`);
    }
    assert.is((await collect(reader.read(150_000, 999_999))).length, 50_000);
    await reader.close();
  });

  test('a newer write replaces an older one; a reader that is open keeps its version', async () => {
    const df = await h.manager.diskFile(loc());
    const first = Buffer.from('first version');
    await putObject(df, first, ts(1));
    const reader = await df.open();
    await putObject(df, Buffer.from('second version!'), ts(2));
    assert.ok((await collect(reader.read())).equals(first));
    await reader.close();
    assert.is((await df.readMetadata()).contentLength, 15);
  });

  test('the newest timestamp wins whatever order the writes finish in', async () => {
    const df = await h.manager.diskFile(loc());
    await putObject(df, Buffer.from('newer'), ts(5));
    await putObject(df, Buffer.from('older!'), ts(3));
    const state = await df.readMetadata();
    assert.ok(state.dataTimestamp.equals(ts(5)));
    assert.is(state.contentLength, 5);
  });

  test('delete leaves a tombstone with its timestamp; an older write stays hidden, a newer one shows', async () => {
    const df = await h.manager.diskFile(loc());
    await putObject(df, Buffer.from('x'), ts(1));
    await df.delete(ts(3));
    await rejects(df.readMetadata(), (err: unknown) => err instanceof DiskFileDeleted && err.timestamp.equals(ts(3)));
    await rejects(df.open(), DiskFileDeleted);
    await putObject(df, Buffer.from('y'), ts(2));
    await rejects(df.readMetadata(), DiskFileDeleted);
    await putObject(df, Buffer.from('zz'), ts(4));
    assert.is((await df.readMetadata()).contentLength, 2);
  });

  test('POST metadata replaces user metadata and keeps size, ETag, sysmeta and content type', async () => {
    const df = await h.manager.diskFile(loc());
    const body = Buffer.from('hello');
    await putObject(df, body, ts(1), { 'X-Object-Meta-Old': '1', 'X-Object-Sysmeta-Slo': 'yes', 'Content-Type': 'text/plain' });
    await df.writeMetadata({ 'X-Timestamp': ts(2).internal, 'X-Object-Meta-New': '2' });
    const state = await df.readMetadata();
    assert.is(state.metadata['X-Object-Meta-Old'], undefined);
    assert.is(state.metadata['X-Object-Meta-New'], '2');
    assert.is(state.metadata['X-Object-Sysmeta-Slo'], 'yes');
    assert.is(state.metadata['ETag'], md5(body));
    assert.is(state.metadata['Content-Type'], 'text/plain');
    assert.is(state.metadata['X-Timestamp'], ts(2).internal);
    assert.ok(state.timestamp.equals(ts(2)));
    assert.ok(state.dataTimestamp.equals(ts(1)));
    assert.equal(state.metaFileMetadata, { 'X-Timestamp': ts(2).internal, 'X-Object-Meta-New': '2' });
    await df.writeMetadata({ 'X-Timestamp': ts(3).internal, 'Content-Type': 'text/html', 'Content-Type-Timestamp': ts(3).internal });
    const again = await df.readMetadata();
    assert.is(again.metadata['Content-Type'], 'text/html');
    assert.is(again.metadata['X-Object-Meta-New'], undefined);
    assert.ok(again.contentTypeTimestamp.equals(ts(3)));
    // A newer PUT drops the POSTed metadata.
    await putObject(df, body, ts(4), { 'Content-Type': 'text/css' });
    const fresh = await df.readMetadata();
    assert.is(fresh.metadata['Content-Type'], 'text/css');
    assert.is(fresh.metaFileMetadata, undefined);
  });

  test('an object past X-Delete-At is expired (404), unless opened for replication', async () => {
    const df = await h.manager.diskFile(loc());
    const at = Math.floor(h.clock.now() / 1000) + 60;
    await putObject(df, Buffer.from('soon gone'), ts(1), { 'X-Delete-At': String(at) });
    assert.is((await df.readMetadata()).contentLength, 9);
    h.clock.advance(61_000);
    await rejects(df.readMetadata(), (err: unknown) => err instanceof DiskFileExpired && err.metadata['X-Delete-At'] === String(at));
    assert.is((await df.readMetadata({ openExpired: true })).contentLength, 9);
  });

  test('nothing is visible before commit, and abort leaves nothing', async () => {
    const df = await h.manager.diskFile(loc());
    const writer = await df.create();
    await writer.write(Buffer.alloc(100_000, 1));
    await rejects(df.readMetadata(), DiskFileNotExist);
    await writer.abort();
    await writer.abort();
    await rejects(df.readMetadata(), DiskFileNotExist);
  });

  test('a commit whose Content-Length does not match the bytes written is refused', async () => {
    const df = await h.manager.diskFile(loc());
    const writer = await df.create();
    await writer.write(Buffer.from('short'));
    await rejects(writer.commit({ name: '/a/c/o', 'X-Timestamp': ts(1).internal, 'Content-Length': '10', ETag: md5(Buffer.from('short')) }), /Content-Length/);
    await writer.abort();
    await rejects(df.readMetadata(), DiskFileNotExist);
  });

  test('a body in many tiny chunks (blocks made of pieces) reads back whole, block checksums and all', async () => {
    const df = await h.manager.diskFile(loc('tiny'));
    const body = randomBytes(300_000);
    await putObject(df, body, ts(1), {}, '/a/c/tiny', 97);
    const reader = await df.open();
    assert.ok((await collect(reader.read())).equals(body));
    assert.ok((await collect(reader.read(65_500, 131_100))).equals(body.subarray(65_500, 131_100)));
    await reader.close();
  });

  test('large objects of awkward sizes read back exactly (whole, by range, by block)', async () => {
    // Sizes around the 1 MiB write unit and the 4 KiB sector: the file ends mid-sector,
    // exactly on a sector, and exactly on a write unit.
    const blockFile = (n: number): number => 64 + n + Math.ceil(n / 65_536) * 8;
    for (const size of [1024 * 1024, 3 * 1024 * 1024 + 12_345, 2 * 1024 * 1024 - 64 - 32 * 8 - 100, 5 * 1024 * 1024 + 4_097]) {
      const df = await h.manager.diskFile(loc(`big-${size}`));
      const body = randomBytes(size);
      await putObject(df, body, ts(1), {}, `/a/c/big-${size}`, 50_000);
      const reader = await df.open();
      assert.is(reader.contentLength, size);
      assert.ok((await collect(reader.read())).equals(body), `whole ${size} (file ${blockFile(size)})`);
      assert.ok((await collect(reader.read(size - 70_000, size - 3))).equals(body.subarray(size - 70_000, size - 3)), `tail of ${size}`);
      assert.ok((await collect(reader.read(1_000_003, 2_500_001))).equals(body.subarray(1_000_003, 2_500_001)), `middle of ${size}`);
      // A reader left after its first chunk closes cleanly (its read-ahead lands first).
      for await (const chunk of reader.read()) {
        assert.ok(chunk.length > 0);
        break;
      }
      await reader.close();
    }
  });

  test('5 MiB streams through in pieces and back', async () => {
    const df = await h.manager.diskFile(loc('big'));
    const body = randomBytes(5 * 1024 * 1024);
    await putObject(df, body, ts(1), {}, '/a/c/big', 65_536);
    const reader = await df.open();
    const hash = createHash('md5');
    for await (const chunk of reader.read()) hash.update(chunk);
    assert.is(hash.digest('hex'), md5(body));
    await reader.close();
  });

  test('suffix hashes change when an object changes, and only then', async () => {
    const df = await h.manager.diskFile(loc());
    assert.equal(await h.manager.getHashes(h.device, 7), {});
    await putObject(df, Buffer.from('v1'), ts(1));
    const suffix = df.hash.slice(-3);
    const first = await h.manager.getHashes(h.device, 7);
    assert.equal(Object.keys(first), [suffix]);
    assert.equal(await h.manager.getHashes(h.device, 7, [suffix]), first);
    await putObject(df, Buffer.from('v2'), ts(2));
    const second = await h.manager.getHashes(h.device, 7);
    assert.is.not(second[suffix], first[suffix]);
    await df.delete(ts(3));
    const third = await h.manager.getHashes(h.device, 7);
    assert.is.not(third[suffix], second[suffix]);
    // Tombstones go once reclaim_age (7 days) has passed.
    h.clock.advance(8 * 24 * 3600_000);
    assert.equal(await h.manager.getHashes(h.device, 7, [suffix]), {});
  });

  test('writes racing rehashes of their suffix all land and are all in the hashes (a REPLICATE removed a new object directory before its rename: ENOENT)', async () => {
    // Other suffixes to rehash first keep each rehash busy while the write lands.
    const others: string[] = [];
    for (let j = 0; j < 40; j++) {
      const df = await h.manager.diskFile(loc(`filler-${j}`));
      await putObject(df, Buffer.from('filler'), ts(1), {}, `/a/c/filler-${j}`);
      others.push(df.hash.slice(-3));
    }
    for (let i = 0; i < 20; i++) {
      const df = await h.manager.diskFile(loc(`racing-${i}`));
      const suffix = df.hash.slice(-3);
      let writing = true;
      const rehashing = (async () => {
        while (writing) await h.manager.getHashes(h.device, 7, [...others, suffix]);
      })();
      try {
        await putObject(df, Buffer.from(`body ${i}`), ts(i + 1), {}, `/a/c/racing-${i}`);
      } finally {
        writing = false;
        await rehashing;
      }
      assert.is((await collect((await df.open()).read())).toString(), `body ${i}`);
      // What a replicator is told must include the new object: the same as a full rehash.
      const told = await h.manager.getHashes(h.device, 7);
      assert.equal(await h.manager.getHashes(h.device, 7, Object.keys(told)), told);
    }
  });

  test('replication views: partitions, objects with their current timestamps, by suffix', async () => {
    const a = await h.manager.diskFile(loc('a'));
    const b = await h.manager.diskFile(loc('b'));
    const other = await h.manager.diskFile({ ...loc('x'), partition: 9 });
    await putObject(a, Buffer.from('a'), ts(1), {}, '/a/c/a');
    await a.writeMetadata({ 'X-Timestamp': ts(2).internal });
    await putObject(b, Buffer.from('b'), ts(1), {}, '/a/c/b');
    await b.delete(ts(3));
    await putObject(other, Buffer.from('x'), ts(1), {}, '/a/c/x');
    assert.equal((await h.manager.partitions(h.device)).sort((x, y) => x - y), [7, 9]);
    const entries = [];
    for await (const e of h.manager.objects(h.device, 7)) entries.push(e);
    const byHash = new Map(entries.map((e) => [e.hash, e]));
    assert.is(entries.length, 2);
    const ea = byHash.get(a.hash);
    assert.ok(ea?.dataTimestamp?.equals(ts(1)) && ea.metaTimestamp?.equals(ts(2)) && !ea.tombstoneTimestamp);
    assert.is(ea?.suffix, a.hash.slice(-3));
    const eb = byHash.get(b.hash);
    assert.ok(eb?.tombstoneTimestamp?.equals(ts(3)) && !eb.dataTimestamp);
    const only = [];
    for await (const e of h.manager.objects(h.device, 7, [a.hash.slice(-3)])) only.push(e.hash);
    assert.ok(only.includes(a.hash));
    assert.ok(only.every((x) => x.slice(-3) === a.hash.slice(-3)));
  });

  test('an object opened by hash reads with its own name and data-file metadata', async () => {
    const df = await h.manager.diskFile(loc('named'));
    await putObject(df, Buffer.from('by hash'), ts(1), { 'X-Object-Meta-K': 'v' }, '/a/c/named');
    await df.writeMetadata({ 'X-Timestamp': ts(2).internal, 'X-Object-Meta-New': 'n' });
    const byHash = await h.manager.diskFileByHash(h.device, 7, df.hash);
    const reader = await byHash.open();
    assert.is(reader.metadata['name'], '/a/c/named');
    assert.is(reader.dataFileMetadata['X-Object-Meta-K'], 'v', 'the data file keeps what it was written with');
    assert.is(reader.metadata['X-Object-Meta-K'], undefined);
    assert.is(reader.metaFileMetadata?.['X-Object-Meta-New'], 'n');
    assert.ok((await collect(reader.read())).equals(Buffer.from('by hash')));
    await reader.close();
  });

  test('a handoff copy is removed only while it is unchanged', async () => {
    const df = await h.manager.diskFile(loc('handoff'));
    await putObject(df, Buffer.from('v1'), ts(1), {}, '/a/c/handoff');
    const [entry] = await (async () => {
      const out = [];
      for await (const e of h.manager.objects(h.device, 7)) out.push(e);
      return out;
    })();
    await putObject(df, Buffer.from('v2'), ts(2), {}, '/a/c/handoff');
    assert.is(await h.manager.removeIfUnchanged(h.device, 7, entry as NonNullable<typeof entry>), false);
    assert.is((await df.readMetadata()).contentLength, 2);
    for await (const e of h.manager.objects(h.device, 7)) assert.is(await h.manager.removeIfUnchanged(h.device, 7, e), true);
    await rejects(df.readMetadata(), DiskFileNotExist);
  });

  test('removing a partition removes its objects only; quarantine by hash hides one object', async () => {
    const keep = await h.manager.diskFile({ ...loc('keep'), partition: 8 });
    await putObject(keep, Buffer.from('k'), ts(1), {}, '/a/c/keep');
    const gone = await h.manager.diskFile(loc('gone'));
    await putObject(gone, Buffer.from('g'), ts(1), {}, '/a/c/gone');
    await h.manager.removePartition(h.device, 7);
    await rejects(gone.readMetadata(), DiskFileNotExist);
    assert.equal(await h.manager.partitions(h.device), [8]);
    assert.equal(await h.manager.getHashes(h.device, 7), {});
    await h.manager.quarantineByHash(h.device, 8, keep.hash, 'test');
    await rejects(keep.readMetadata(), DiskFileNotExist);
  });

  test('a missing device is a DeviceUnavailableError', async () => {
    await rejects(h.manager.diskFile({ ...loc(), device: h.missingDevice }), DeviceUnavailableError);
    await rejects(h.manager.getHashes(h.missingDevice, 7), DeviceUnavailableError);
  });

  test('a corrupt block is never served: the read stops before it and the object is quarantined', async () => {
    if (!h.manager.supports.blockChecksums || !h.corrupt) return;
    const df = await h.manager.diskFile(loc());
    const body = randomBytes(300_000);
    await putObject(df, body, ts(1));
    await h.corrupt(loc(), 200_000); // in block 3 (bytes 196608..262143)
    const served = await servedBeforeQuarantine(df);
    assert.ok(served.length <= 196_608, `served ${served.length} bytes, past the bad block`);
    assert.ok(served.equals(body.subarray(0, served.length)), 'served a wrong byte');
    await rejects(df.readMetadata(), DiskFileNotExist);
  });

  test('a corrupt block deep in a large object (read around the page cache) is never served', async () => {
    if (!h.manager.supports.blockChecksums || !h.corrupt) return;
    const df = await h.manager.diskFile(loc('large'));
    const body = randomBytes(6 * 1024 * 1024);
    await putObject(df, body, ts(1), {}, '/a/c/large');
    await h.corrupt(loc('large'), 5_000_000); // in block 76
    const served = await servedBeforeQuarantine(df);
    assert.ok(served.length <= 76 * 65_536, `served ${served.length} bytes, past the bad block`);
    assert.ok(served.equals(body.subarray(0, served.length)), 'served a wrong byte');
  });

  test('a corrupt header quarantines the object on open', async () => {
    if (!h.manager.supports.blockChecksums || !h.corrupt) return;
    const df = await h.manager.diskFile(loc());
    await putObject(df, Buffer.from('header test'), ts(1));
    await h.corrupt(loc(), 'header');
    await rejects(df.readMetadata(), DiskFileQuarantined);
    await rejects(df.readMetadata(), (err: unknown) => err instanceof DiskFileNotExist && !(err instanceof DiskFileQuarantined));
  });

  test.run();
}
