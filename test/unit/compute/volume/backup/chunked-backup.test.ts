import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type BackupRequest, ChunkedBackupEngine, type StoredBackup } from '../../../../../compute/volume/backup/chunked-backup.ts';
import { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import { BackupStoreError } from '../../../../../compute/volume/backup/store-errors.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import type { VolumeFile } from '../../../../../compute/volume/driver/types.ts';
import { BackupCorrupt, InvalidBackup } from '../../../../../compute/volume/errors.ts';
import { ManualClock } from '../../../../helpers/manual-clock.ts';
import { rejects } from '../../../../helpers/rejects.ts';
import { changeSpots, countingReads, knownData, readVolume, sha256, writeVolume } from '../../../../helpers/volume-data.ts';
import type { PiecedBody } from '../../../../../compute/volume/backup/object-store.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 4 * MiB;
const CHUNK = 512 * KiB;
const BLOCK = 32 * KiB;

function setup(options: { compression?: string; store?: MemoryBackupObjectStore } = {}) {
  const store = options.store ?? new MemoryBackupObjectStore();
  const clock = new ManualClock(Date.UTC(2026, 11, 5, 10, 6, 22));
  const engine = new ChunkedBackupEngine({ chunkSizeBytes: CHUNK, shaBlockSizeBytes: BLOCK, compression: options.compression ?? 'zlib', availabilityZone: 'nova' }, { store, clock });
  return { store, clock, engine, driver: new MemoryVolumeDriver() };
}

function request(id: string, parent?: StoredBackup): BackupRequest {
  return { id, volumeId: 'vol1', name: `backup ${id}`, description: null, createdAt: '2026-12-05 10:06:22+00:00', ...(parent ? { parent } : {}) };
}

async function backupOf(engine: ChunkedBackupEngine, driver: MemoryVolumeDriver, id: string, parent?: StoredBackup) {
  const file = await driver.openVolume('vol1', 'r');
  try {
    return await engine.backup(request(id, parent), file);
  } finally {
    await file.close();
  }
}

async function restoreTo(engine: ChunkedBackupEngine, driver: MemoryVolumeDriver, target: string, chain: StoredBackup[], volumeIsNew = true) {
  const file = await driver.openVolume(target, 'rw');
  try {
    return await engine.restore(chain, file, { volumeIsNew });
  } finally {
    await file.close();
  }
}

test("a full backup is Cinder's layout: chunks under the prefix, the sha256 file and the metadata; restore gives the bytes back", async () => {
  const { store, engine, driver } = setup();
  const data = knownData(SIZE);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const full = await backupOf(engine, driver, 'b1');
  const prefix = 'volume_vol1/20261205100622/az_nova_backup_b1';
  assert.equal(full, { id: 'b1', container: 'volumebackups', serviceMetadata: prefix, parentId: null, objectCount: 8, bytesUploaded: SIZE });
  const names = await store.listNames('volumebackups', prefix);
  assert.equal(names, [...Array.from({ length: 8 }, (_, i) => `${prefix}-0000${i + 1}`), `${prefix}_metadata`, `${prefix}_sha256file`]);

  const meta = JSON.parse(Buffer.from(await store.get('volumebackups', `${prefix}_metadata`)).toString());
  assert.equal(Object.keys(meta).sort(), ['backup_description', 'backup_id', 'backup_name', 'created_at', 'objects', 'parent_id', 'version', 'volume_id', 'volume_meta']);
  assert.is(meta.version, '1.0.0');
  assert.is(meta.backup_name, 'backup b1');
  const first = meta.objects[0][`${prefix}-00001`];
  assert.is(first.offset, 0);
  assert.is(first.length, CHUNK);
  assert.is(first.md5, createHash('md5').update(data.subarray(0, CHUNK)).digest('hex'));
  const algorithms = meta.objects.map((o: Record<string, { compression: string }>) => Object.values(o)[0]?.compression);
  assert.ok(algorithms.includes('zlib'), 'compressible chunks are stored compressed');

  // Chunks finish on several threads in any order; they are named and listed in volume order.
  assert.equal(
    meta.objects.map((o: Record<string, { offset: number }>) => Object.values(o)[0]?.offset),
    Array.from({ length: 8 }, (_, i) => i * CHUNK),
  );
  const shaFile = JSON.parse(Buffer.from(await store.get('volumebackups', `${prefix}_sha256file`)).toString());
  assert.is(shaFile.chunk_size, BLOCK);
  // Every block's digest, zero blocks (known, not computed) included.
  assert.equal(
    shaFile.sha256s,
    Array.from({ length: SIZE / BLOCK }, (_, i) => sha256(data.subarray(i * BLOCK, (i + 1) * BLOCK))),
  );
  assert.ok(data.subarray(0, BLOCK).every((b) => b === 0), 'the data has zero blocks');

  await driver.createVolume('restored', SIZE);
  assert.equal(await restoreTo(engine, driver, 'restored', [full]), { objectsRestored: 8, volumeMeta: null });
  assert.ok((await readVolume(driver, 'restored')).equals(data));
});

test('the metadata and sha256 files are byte for byte what Python json.dumps(sort_keys=True, indent=2) writes', async () => {
  const { store, engine, driver } = setup();
  await driver.createVolume('vol1', MiB);
  await writeVolume(driver, 'vol1', knownData(MiB));
  const b = await engine.backup({ ...request('b1'), name: 'caf\u00e9 \u{1F600}', description: 'a "quoted" \\ name' }, await driver.openVolume('vol1', 'r'));
  for (const suffix of ['_metadata', '_sha256file']) {
    const ours = Buffer.from(await store.get(b.container, b.serviceMetadata + suffix)).toString('latin1');
    const python = execFileSync('python3', ['-c', 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, indent=2))'], { input: ours }).toString('latin1');
    assert.is(ours, python, suffix);
  }
});

test('an incremental of a 1% change uploads only the changed blocks; both backups restore exactly', async () => {
  const { store, engine, driver } = setup();
  const original = knownData(SIZE);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', original);
  const full = await backupOf(engine, driver, 'full');

  const changed = Buffer.from(original);
  // 1% in 3 runs, each inside one hash block run: at most 3 runs of changed blocks.
  const ranges = changeSpots(changed, 0.01, 3);
  await writeVolume(driver, 'vol1', changed);
  const putsBefore = store.puts;
  const incr = await backupOf(engine, driver, 'incr', full);
  const changedBlocks = new Set(ranges.flatMap(([s, e]) => Array.from({ length: Math.floor((e - 1) / BLOCK) - Math.floor(s / BLOCK) + 1 }, (_, i) => Math.floor(s / BLOCK) + i)));
  assert.is(incr.objectCount, 3, 'one chunk per run of changed blocks');
  assert.is(incr.bytesUploaded, changedBlocks.size * BLOCK);
  assert.is(store.puts - putsBefore, 3 + 2, 'three chunks, the sha256 file and the metadata');
  assert.ok(incr.bytesUploaded < SIZE / 20);

  await driver.createVolume('from-incr', SIZE);
  assert.is((await restoreTo(engine, driver, 'from-incr', [incr, full])).objectsRestored, 8 + 3);
  assert.ok((await readVolume(driver, 'from-incr')).equals(changed));
  await driver.createVolume('from-full', SIZE);
  await restoreTo(engine, driver, 'from-full', [full]);
  assert.ok((await readVolume(driver, 'from-full')).equals(original));
});

async function trackedBackup(engine: ChunkedBackupEngine, driver: MemoryVolumeDriver, id: string, parent?: StoredBackup, tracked = true) {
  await driver.markChanges('vol1', id);
  const file = countingReads(await driver.openVolume('vol1', 'r'), { tracked });
  try {
    return { backup: await engine.backup(request(id, parent), file), bytesRead: file.bytesRead };
  } finally {
    await file.close();
  }
}

test('a volume that tracks its changes: the incremental reads only the changed blocks and is the backup a full read makes', async () => {
  const { store, engine, driver } = setup();
  const original = knownData(SIZE);
  await driver.createVolume('vol1', SIZE, { format: 'qcow2' });
  await writeVolume(driver, 'vol1', original);
  const full = await trackedBackup(engine, driver, 'full');
  assert.is(full.bytesRead, SIZE, 'a full backup reads it all');

  const changed = Buffer.from(original);
  const ranges = changeSpots(changed, 0.01, 3);
  const w = await driver.openVolume('vol1', 'rw');
  for (const [start, end] of ranges) await w.write(start, changed.subarray(start, end));
  // A write of the same bytes: tracked as changed, found unchanged by its SHA-256, not uploaded.
  await w.write(SIZE - 64 * KiB, changed.subarray(SIZE - 64 * KiB));
  await w.close();

  const putsBefore = store.puts;
  const incr = await trackedBackup(engine, driver, 'incr', full.backup);
  assert.ok(incr.bytesRead <= 4 * 64 * KiB, `read ${incr.bytesRead} bytes of ${SIZE}: only the 64 KiB granules written`);
  assert.is(incr.backup.objectCount, 3, 'one object per run of changed blocks; the rewrite of the same bytes is none');
  assert.is(store.puts - putsBefore, 3 + 2);

  // The same incremental by reading the whole volume: the same sha256 file, the same objects.
  const reread = await trackedBackup(engine, driver, 'reread', full.backup, false);
  assert.is(reread.bytesRead, SIZE);
  const text = async (b: StoredBackup, suffix: string) => Buffer.from(await store.get('volumebackups', `${b.serviceMetadata}${suffix}`)).toString();
  const body = (json: string, id: string) => json.replaceAll(id, 'ID').replace(/"backup_name": "[^"]*"/, '');
  assert.is(body(await text(incr.backup, '_sha256file'), 'incr'), body(await text(reread.backup, '_sha256file'), 'reread'));
  const objects = async (b: StoredBackup) => (JSON.parse(await text(b, '_metadata')).objects as Array<Record<string, unknown>>).map((o) => Object.values(o)[0]);
  assert.equal(await objects(incr.backup), await objects(reread.backup));

  await driver.createVolume('from-incr', SIZE);
  await restoreTo(engine, driver, 'from-incr', [incr.backup, full.backup]);
  assert.ok((await readVolume(driver, 'from-incr')).equals(changed));
});

/**
 * A store whose extent PUTs, once `arm()`ed, wait until the sha256 file's PUT has begun (or
 * 2 s: no engine should wait on that), counting how many PUTs are in flight.
 */
class ShaFirstStore extends MemoryBackupObjectStore {
  inFlight = 0;
  mostInFlight = 0;
  extentsDone = 0;
  extentsDoneAtShaFile: number | undefined;
  failAtPut: number | undefined;
  private shaFile: Promise<void> | undefined;
  private shaFileBegun: (() => void) | undefined;
  arm(): void {
    this.extentsDone = 0;
    this.mostInFlight = 0;
    this.extentsDoneAtShaFile = undefined;
    this.shaFile = new Promise((resolve) => {
      this.shaFileBegun = resolve;
    });
  }
  override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    const extent = /-\d{5}$/.test(name);
    if (name.endsWith('_sha256file')) {
      this.extentsDoneAtShaFile ??= this.extentsDone;
      this.shaFileBegun?.();
    }
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      if (extent && this.shaFile && this.extentsDoneAtShaFile === undefined) await Promise.race([this.shaFile, new Promise((resolve) => setTimeout(resolve, 2000))]);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      if (this.puts + 1 === this.failAtPut) throw new BackupStoreError(`PUT ${name}: 503`);
      await super.put(container, name, data, md5);
      if (extent) this.extentsDone += 1;
    } finally {
      this.inFlight -= 1;
    }
  }
}

test("a tracked incremental's sha256 file goes up while its extents still wait for one of the 16 upload places", async () => {
  const store = new ShaFirstStore();
  const { engine, driver } = setup({ store });
  const data = knownData(SIZE, 3);
  await driver.createVolume('vol1', SIZE, { format: 'qcow2' });
  await writeVolume(driver, 'vol1', data);
  const full = await trackedBackup(engine, driver, 'full');
  const ranges = changeSpots(data, 0.02, 40);
  const w = await driver.openVolume('vol1', 'rw');
  for (const [start, end] of ranges) await w.write(start, data.subarray(start, end));
  await w.close();
  store.arm();
  const incr = await trackedBackup(engine, driver, 'incr', full.backup);
  assert.is(incr.backup.objectCount, 40);
  assert.ok(store.mostInFlight <= 16 + 1, `${store.mostInFlight} PUTs at once: the extents' 16 and the sha256 file`);
  assert.is(store.extentsDoneAtShaFile, 0, 'the sha256 file began before any extent was stored');
  await driver.createVolume('target', SIZE);
  await restoreTo(engine, driver, 'target', [incr.backup, full.backup]);
  assert.ok((await readVolume(driver, 'target')).equals(data));

  // An extent that fails while others wait for a place: none of those is sent, nothing is left.
  changeSpots(data, 0.02, 40);
  await writeVolume(driver, 'vol1', data);
  const before = await store.listNames('volumebackups', '');
  store.failAtPut = store.puts + 5;
  await rejects(trackedBackup(engine, driver, 'incr2', incr.backup), BackupStoreError);
  assert.equal(await store.listNames('volumebackups', ''), before);
  assert.is(store.inFlight, 0);
});

test('an incremental over a parent the volume has no mark for reads it all (no changed-block tracking to trust)', async () => {
  const { engine, driver } = setup();
  const original = knownData(SIZE);
  await driver.createVolume('vol1', SIZE, { format: 'qcow2' });
  await writeVolume(driver, 'vol1', original);
  const full = await trackedBackup(engine, driver, 'full');
  await driver.dropChangeMarks('vol1', { mark: 'full' });
  const changed = Buffer.from(original);
  changeSpots(changed, 0.01, 2);
  await writeVolume(driver, 'vol1', changed);
  const incr = await trackedBackup(engine, driver, 'incr', full.backup);
  assert.is(incr.bytesRead, SIZE);
  assert.is(incr.backup.objectCount, 2);
  await driver.createVolume('from-incr', SIZE);
  await restoreTo(engine, driver, 'from-incr', [incr.backup, full.backup]);
  assert.ok((await readVolume(driver, 'from-incr')).equals(changed));
});

test('an incremental that turns data into zeros restores the zeros, on a new volume too', async () => {
  const { engine, driver } = setup();
  const original = knownData(SIZE);
  original.fill(7, 0, 2 * MiB);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', original);
  const full = await backupOf(engine, driver, 'full');
  const zeroed = Buffer.from(original);
  zeroed.fill(0, 0, 2 * MiB);
  await writeVolume(driver, 'vol1', zeroed);
  const incr = await backupOf(engine, driver, 'incr', full);
  await driver.createVolume('fresh', SIZE);
  await restoreTo(engine, driver, 'fresh', [incr, full]);
  assert.ok((await readVolume(driver, 'fresh')).equals(zeroed));
});

test('a chain of three (full, incremental, incremental) restores each point in time', async () => {
  const { engine, driver } = setup();
  const states = [knownData(SIZE, 3)];
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', states[0] as Buffer);
  const backups = [await backupOf(engine, driver, 'b0')];
  for (let i = 1; i < 3; i++) {
    const next = Buffer.from(states[i - 1] as Buffer);
    changeSpots(next, 0.02, i + 1);
    states.push(next);
    await writeVolume(driver, 'vol1', next);
    backups.push(await backupOf(engine, driver, `b${i}`, backups[i - 1]));
  }
  for (let i = 0; i < 3; i++) {
    await driver.createVolume(`r${i}`, SIZE);
    await restoreTo(engine, driver, `r${i}`, backups.slice(0, i + 1).reverse(), i !== 1);
    assert.ok((await readVolume(driver, `r${i}`)).equals(states[i] as Buffer), `state ${i}`);
  }
  await rejects(restoreTo(engine, driver, 'r0', [backups[2] as StoredBackup, backups[0] as StoredBackup]), InvalidBackup, 'a chain with a gap');
});

test('compression: zstd and none restore too; an unknown or unsupported algorithm is refused', async () => {
  for (const compression of ['zstd', 'none', 'gzip']) {
    const { store, engine, driver } = setup({ compression });
    const data = knownData(2 * MiB, 5);
    await driver.createVolume('vol1', 2 * MiB);
    await writeVolume(driver, 'vol1', data);
    const b = await backupOf(engine, driver, 'b');
    const meta = JSON.parse(Buffer.from(await store.get(b.container, `${b.serviceMetadata}_metadata`)).toString());
    const used = new Set(meta.objects.map((o: Record<string, { compression: string }>) => Object.values(o)[0]?.compression));
    assert.equal([...used], [compression], compression);
    await driver.createVolume('r', 2 * MiB);
    await restoreTo(engine, driver, 'r', [b]);
    assert.ok((await readVolume(driver, 'r')).equals(data), compression);
  }
  // A chunk that does not shrink is kept as it is ('none'), as Cinder keeps it.
  const { store, engine, driver } = setup({ compression: 'zlib' });
  await driver.createVolume('vol1', MiB);
  await writeVolume(driver, 'vol1', randomBytes(MiB));
  const b = await backupOf(engine, driver, 'random');
  const meta = JSON.parse(Buffer.from(await store.get(b.container, `${b.serviceMetadata}_metadata`)).toString());
  assert.equal(meta.objects.map((o: Record<string, { compression: string }>) => Object.values(o)[0]?.compression), ['none', 'none']);
  assert.throws(() => setup({ compression: 'bz2' }), (e: unknown) => e instanceof InvalidBackup);
  assert.throws(() => setup({ compression: 'lzma' }), (e: unknown) => e instanceof InvalidBackup);
});

test("chunks are Cinder's zlib: Python's zlib opens ours, and a chunk Python compressed at its default level restores here", async () => {
  const { store, engine, driver } = setup();
  const data = knownData(SIZE, 9);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const b = await backupOf(engine, driver, 'b');
  const meta = JSON.parse(Buffer.from(await store.get(b.container, `${b.serviceMetadata}_metadata`)).toString());
  const entries = meta.objects.map((o: Record<string, { offset: number; compression: string }>) => Object.entries(o)[0]) as Array<[string, { offset: number; compression: string }]>;
  assert.ok(entries.filter(([, e]) => e.compression === 'zlib').length >= 6, 'most chunks compress');
  for (const [name, entry] of entries.filter(([, e]) => e.compression === 'zlib')) {
    const inflated = execFileSync('python3', ['-c', 'import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))'], { input: await store.get(b.container, name) });
    assert.ok(inflated.equals(data.subarray(entry.offset, entry.offset + CHUNK)), name);
  }
  const [second, { offset }] = entries[1] as [string, { offset: number }];
  const ours = await store.get(b.container, second);
  const cinders = execFileSync('python3', ['-c', 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))'], { input: data.subarray(offset, offset + CHUNK) });
  assert.not.ok(Buffer.from(ours).equals(cinders), 'our level differs from Python default; the format does not');
  store.tamper(b.container, second, cinders);
  await driver.createVolume('r', SIZE);
  await restoreTo(engine, driver, 'r', [b]);
  assert.ok((await readVolume(driver, 'r')).equals(data));
});

test('zstd chunks record their content size in the frame, as the one-shot zstd.compress Cinder calls writes them', async () => {
  const { store, engine, driver } = setup({ compression: 'zstd' });
  await driver.createVolume('vol1', MiB);
  await writeVolume(driver, 'vol1', knownData(MiB, 4));
  const b = await backupOf(engine, driver, 'b');
  const first = await store.get(b.container, `${b.serviceMetadata}-00001`);
  assert.equal([...first.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'a zstd frame');
  const descriptor = first[4] as number;
  // Frame_Content_Size_flag (bits 7-6) or Single_Segment_flag (bit 5): the size is in the header.
  assert.ok(descriptor >> 6 !== 0 || (descriptor & 0x20) !== 0, `descriptor ${descriptor.toString(2)}`);
});

test('a chunk that inflates to more than its recorded length is BackupCorrupt, found without inflating it all', async () => {
  const { store, engine, driver } = setup();
  const data = knownData(SIZE, 2);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const b = await backupOf(engine, driver, 'b');
  // A zlib body of 64 MiB of zeros under a name whose metadata says 512 KiB.
  store.tamper(b.container, `${b.serviceMetadata}-00001`, deflateSync(Buffer.alloc(64 * MiB)));
  await driver.createVolume('target', SIZE);
  await rejects(restoreTo(engine, driver, 'target', [b]), (e) => e instanceof BackupCorrupt && /00001/.test(e.message));
  assert.ok((await readVolume(driver, 'target')).equals(Buffer.alloc(SIZE)), 'nothing written');
});

test('restore checks every block: a changed chunk or sha256 entry is BackupCorrupt and that chunk is not written', async () => {
  const { store, engine, driver } = setup({ compression: 'none' });
  const data = knownData(SIZE);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const b = await backupOf(engine, driver, 'b');
  const third = `${b.serviceMetadata}-00003`;
  const good = await store.get(b.container, third);
  const bad = Buffer.from(good);
  bad[100] = (bad[100] as number) ^ 1;
  store.tamper(b.container, third, bad);
  await driver.createVolume('target', SIZE);
  const marker = Buffer.alloc(SIZE, 0x33);
  await writeVolume(driver, 'target', marker);
  await rejects(restoreTo(engine, driver, 'target', [b], false), BackupCorrupt);
  const after = await readVolume(driver, 'target');
  assert.ok(after.subarray(2 * CHUNK, 3 * CHUNK).equals(marker.subarray(0, CHUNK)), 'the bad chunk left the volume as it was');
  assert.ok(after.subarray(0, 2 * CHUNK).equals(data.subarray(0, 2 * CHUNK)));

  // The chunk is whole again, but the sha256 file says otherwise of one of its blocks.
  store.tamper(b.container, third, good);
  const metaName = `${b.serviceMetadata}_sha256file`;
  const shaFile = JSON.parse(Buffer.from(await store.get(b.container, metaName)).toString());
  shaFile.sha256s[20] = sha256(Buffer.from('not this'));
  store.tamper(b.container, metaName, Buffer.from(JSON.stringify(shaFile)));
  await rejects(restoreTo(engine, driver, 'target', [b], false), (e) => e instanceof BackupCorrupt && /block 20 /.test(e.message));
});

test("a sha256 file of many pieces (2 KiB blocks: 148 KB of text, read as it arrives) serves the incremental and the restores byte for byte; one cut short or broken mid-way is BackupCorrupt saying why", async () => {
  const store = new MemoryBackupObjectStore();
  const engine = new ChunkedBackupEngine({ chunkSizeBytes: CHUNK, shaBlockSizeBytes: 2 * KiB, compression: 'zlib', availabilityZone: 'nova' }, { store, clock: new ManualClock(Date.UTC(2026, 11, 5, 10, 6, 22)) });
  const driver = new MemoryVolumeDriver();
  const data = knownData(SIZE, 5);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const full = await backupOf(engine, driver, 'full');
  const shaName = `${full.serviceMetadata}_sha256file`;
  const text = Buffer.from(await store.get(full.container, shaName));
  assert.ok(text.length > 2 * 65_536, `${text.length} bytes`);
  const original = Buffer.from(data);
  changeSpots(data, 0.02, 7);
  await writeVolume(driver, 'vol1', data);
  const incr = await backupOf(engine, driver, 'incr', full);
  assert.ok(incr.bytesUploaded < SIZE / 4, `${incr.bytesUploaded} bytes uploaded: only the changed blocks`);
  for (const [chain, expected] of [
    [[full], original],
    [[incr, full], data],
  ] as const) {
    await driver.createVolume('target', SIZE);
    await restoreTo(engine, driver, 'target', [...chain]);
    assert.ok((await readVolume(driver, 'target')).equals(expected));
    await driver.deleteVolume('target');
  }
  for (const [bad, why] of [
    [text.subarray(0, 100_000), /is not a sha256 file: (a digest cut short|expected .) at byte 10000\d/],
    [Buffer.concat([text.subarray(0, 90_000), Buffer.from('zz'), text.subarray(90_002)]), /is not a sha256 file: not a 64-digit hex SHA-256 at byte 9000\d/],
  ] as const) {
    store.tamper(full.container, shaName, bad);
    await rejects(backupOf(engine, driver, 'incr2', full), (e) => e instanceof BackupCorrupt && e.message.includes(shaName) && why.test(e.message));
    await driver.createVolume('target', SIZE);
    await rejects(restoreTo(engine, driver, 'target', [full]), (e) => e instanceof BackupCorrupt && why.test(e.message));
    await driver.deleteVolume('target');
  }
});

test('restore refuses a volume smaller than the backup, an unknown version and a missing or extra object, before writing', async () => {
  const { store, engine, driver } = setup();
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', knownData(SIZE));
  const b = await backupOf(engine, driver, 'b');
  await driver.createVolume('small', SIZE - MiB);
  await writeVolume(driver, 'small', Buffer.alloc(SIZE - MiB, 1));
  await rejects(restoreTo(engine, driver, 'small', [b], false), /too small/);
  assert.ok((await readVolume(driver, 'small')).equals(Buffer.alloc(SIZE - MiB, 1)));

  await store.put(b.container, `${b.serviceMetadata}-00099`, Buffer.from('stray'));
  await driver.createVolume('target', SIZE);
  await rejects(restoreTo(engine, driver, 'target', [b]), /actual object list does not match/);
  await store.delete(b.container, `${b.serviceMetadata}-00099`);
  await store.delete(b.container, `${b.serviceMetadata}-00002`);
  await rejects(restoreTo(engine, driver, 'target', [b]), /actual object list does not match/);
  assert.ok((await readVolume(driver, 'target')).equals(Buffer.alloc(SIZE)));

  const metaName = `${b.serviceMetadata}_metadata`;
  const meta = JSON.parse(Buffer.from(await store.get(b.container, metaName)).toString());
  store.tamper(b.container, metaName, Buffer.from(JSON.stringify({ ...meta, version: '2.0.0' })));
  await rejects(restoreTo(engine, driver, 'target', [b]), /No support to restore backup version 2.0.0/);
});

test('an incremental is refused when the volume grew or the hash block size changed; nothing is written', async () => {
  const { store, engine, driver } = setup();
  await driver.createVolume('vol1', SIZE);
  const full = await backupOf(engine, driver, 'full');
  await driver.extendVolume('vol1', SIZE + MiB);
  const puts = store.puts;
  await rejects(backupOf(engine, driver, 'incr', full), /Volume size increased since the last backup. Do a full backup./);
  const other = new ChunkedBackupEngine({ chunkSizeBytes: CHUNK, shaBlockSizeBytes: 64 * KiB }, { store, clock: new ManualClock() });
  await rejects(other.backup(request('incr2', full), await driver.openVolume('vol1', 'r')), /Hash block size has changed since the last backup. New hash block size: 65536. Old hash block size: 32768. Do a full backup./);
  assert.is(store.puts, puts);
  const bad = new ChunkedBackupEngine({ chunkSizeBytes: 100 * KiB, shaBlockSizeBytes: 64 * KiB }, { store, clock: new ManualClock() });
  await rejects(bad.backup(request('x'), await driver.openVolume('vol1', 'r')), /Chunk size is not multiple of block size for creating hash./);
});

test('a backup whose upload fails leaves no object behind', async () => {
  class FailingStore extends MemoryBackupObjectStore {
    override async put(container: string, name: string, data: Uint8Array | PiecedBody): Promise<void> {
      if (this.puts === 4) throw new BackupStoreError(`PUT ${name}: 503`);
      await super.put(container, name, data);
    }
  }
  const store = new FailingStore();
  const { engine, driver } = setup({ store });
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', knownData(SIZE));
  await rejects(backupOf(engine, driver, 'b'), BackupStoreError);
  assert.equal(await store.listNames('volumebackups', ''), []);
});

test('chunk memory is not reused while an upload still sends from it (it is shared with the threads, nothing detaches it)', async () => {
  // Uploads that finish late, checking the body's MD5 only when they finish, as a network
  // upload reads the body after put() is called; reads into the engine's memory, as the file driver's do.
  class SlowStore extends MemoryBackupObjectStore {
    override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      await super.put(container, name, data, md5);
    }
  }
  const store = new SlowStore();
  const { engine, driver } = setup({ store });
  const data = knownData(SIZE, 7);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const reading = async (): Promise<VolumeFile> => {
    const file = await driver.openVolume('vol1', 'r');
    const readInto = async (buffer: Uint8Array, position: number): Promise<number> => {
      const bytes = await file.read(position, buffer.length);
      buffer.set(bytes);
      return bytes.length;
    };
    return { sizeBytes: file.sizeBytes, read: (p, l) => file.read(p, l), readInto, write: (p, d) => file.write(p, d), sync: () => file.sync(), close: () => file.close() };
  };
  const full = await engine.backup(request('full'), await reading());
  changeSpots(data, 0.05, 9);
  await writeVolume(driver, 'vol1', data);
  const incr = await engine.backup(request('incr', full), await reading());
  await driver.createVolume('target', SIZE);
  await restoreTo(engine, driver, 'target', [incr, full]);
  assert.is(sha256(await readVolume(driver, 'target')), sha256(data));
});

test('a sha256 file that fails to upload (sent beside the last chunks) fails the backup and leaves no object behind', async () => {
  class FailingShaStore extends MemoryBackupObjectStore {
    override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
      if (name.endsWith('_sha256file')) throw new BackupStoreError(`PUT ${name}: 503`);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)); // chunks still in flight
      await super.put(container, name, data, md5);
    }
  }
  const store = new FailingShaStore();
  const { engine, driver } = setup({ store });
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', knownData(SIZE));
  await rejects(backupOf(engine, driver, 'b'), BackupStoreError);
  assert.equal(await store.listNames('volumebackups', ''), []);
});

test('delete removes every object of the backup and no other', async () => {
  const { store, clock, engine, driver } = setup();
  await driver.createVolume('vol1', MiB);
  await writeVolume(driver, 'vol1', knownData(MiB));
  const a = await backupOf(engine, driver, 'a');
  clock.advance(1000);
  const b = await backupOf(engine, driver, 'b');
  await engine.delete(a);
  assert.equal(await store.listNames(a.container, a.serviceMetadata), []);
  assert.is((await store.listNames(b.container, b.serviceMetadata)).length, 2 + 2);
});

test('restore syncs while it writes, one sync at a time, and its last sync starts after its last write ended', async () => {
  const { engine, driver } = setup();
  const data = knownData(SIZE, 11);
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', data);
  const full = await backupOf(engine, driver, 'full');
  changeSpots(data, 0.05, 12);
  await writeVolume(driver, 'vol1', data);
  const incr = await backupOf(engine, driver, 'incr', full);
  await driver.createVolume('target', SIZE);
  const file = await driver.openVolume('target', 'rw');
  const events: string[] = [];
  let syncing = 0;
  let writing = 0;
  const turns = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const watched: VolumeFile = {
    sizeBytes: file.sizeBytes,
    read: (p, l) => file.read(p, l),
    async write(p, d) {
      writing++;
      await turns(2);
      await file.write(p, d);
      writing--;
      events.push('write');
    },
    async sync() {
      assert.is(syncing, 0, 'two syncs at once');
      syncing++;
      events.push(writing > 0 ? 'sync-during-write' : 'sync');
      await turns(10); // a sync outlasts a few writes, as an fsync does
      await file.sync();
      syncing--;
    },
    close: () => file.close(),
  };
  await engine.restore([incr, full], watched, { volumeIsNew: true });
  await file.close();
  assert.ok(events.filter((e) => e.startsWith('sync')).length > 1, `synced while writing: ${events.join(' ')}`);
  assert.is(events.at(-1), 'sync', 'the last sync follows the last write');
  assert.is(sha256(await readVolume(driver, 'target')), sha256(data));
});

test('a sync that fails while a restore writes fails the restore', async () => {
  const { engine, driver } = setup();
  await driver.createVolume('vol1', SIZE);
  await writeVolume(driver, 'vol1', knownData(SIZE, 13));
  const full = await backupOf(engine, driver, 'full');
  await driver.createVolume('target', SIZE);
  const file = await driver.openVolume('target', 'rw');
  let syncs = 0;
  const failing: VolumeFile = { ...file, read: (p, l) => file.read(p, l), write: (p, d) => file.write(p, d), close: () => file.close(), sync: async () => {
    if (++syncs === 1) throw new Error('EIO: fsync failed');
  } };
  await rejects(engine.restore([full], failing, { volumeIsNew: true }), /EIO/);
  await file.close();
});

test.run();
