import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkBuffers } from '../../../../../compute/volume/backup/chunk-buffers.ts';
import { ChunkedBackupEngine } from '../../../../../compute/volume/backup/chunked-backup.ts';
import { InvalidVolume } from '../../../../../compute/volume/errors.ts';
import { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import { FileVolumeDriver } from '../../../../../compute/volume/driver/file.ts';
import { suite } from '../../../../conformance/volume-driver.ts';
import { ManualClock } from '../../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';

const MiB = 1024 * 1024;
let dir: Awaited<ReturnType<typeof makeTempDir>>;

suite(
  'file',
  {
    async open() {
      dir = await makeTempDir('swiftlet-volumes-');
      return new FileVolumeDriver({ dir: join(dir.path, 'volumes') });
    },
    cleanup: () => dir.remove(),
  },
  ['raw', 'qcow2'],
);

test('a raw volume and its snapshot are sparse files: a 1 GiB volume with 1 MiB written takes about 1 MiB', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: tmp.path });
    await driver.createVolume('big', 1024 * MiB);
    const file = await driver.openVolume('big', 'rw');
    await file.write(512 * MiB, new Uint8Array(MiB).fill(1));
    await file.close();
    await driver.createSnapshot('snap', 'big');
    for (const name of ['volume-big', 'snapshot-snap']) {
      const s = await stat(join(tmp.path, name));
      assert.is(s.size, 1024 * MiB);
      assert.ok(s.blocks * 512 <= 2 * MiB, `${name} holds ${s.blocks * 512} bytes`);
    }
  } finally {
    await tmp.remove();
  }
});

test('an id that would name a file outside the volume directory is refused', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: join(tmp.path, 'v') });
    for (const id of ['../x', 'a/b', '', '.hidden']) {
      let threw = false;
      try {
        await driver.createVolume(id, MiB);
      } catch {
        threw = true;
      }
      assert.ok(threw, id);
    }
    // Nothing landed beside the directory.
    let outside = true;
    try {
      await (await open(join(tmp.path, 'x'), 'r')).close();
    } catch {
      outside = false;
    }
    assert.not.ok(outside);
  } finally {
    await tmp.remove();
  }
});


test('a qcow2 volume backs up and restores through the engine (byte access through its raw working copy)', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: tmp.path });
    const engine = new ChunkedBackupEngine({ chunkSizeBytes: 256 * 1024, shaBlockSizeBytes: 32 * 1024 }, { store: new MemoryBackupObjectStore(), clock: new ManualClock() });
    const data = knownData(3 * MiB, 21);
    await driver.createVolume('q', 3 * MiB, { format: 'qcow2' });
    await writeVolume(driver, 'q', data);
    const src = await driver.openVolume('q', 'r');
    const b = await engine.backup({ id: 'b', volumeId: 'q', name: null, description: null, createdAt: 'x' }, src);
    await src.close();
    await driver.createVolume('q2', 3 * MiB, { format: 'qcow2' });
    const dst = await driver.openVolume('q2', 'rw');
    await engine.restore([b], dst, { volumeIsNew: true });
    await dst.close();
    assert.is((await driver.getVolume('q2'))?.format, 'qcow2');
    assert.ok((await readVolume(driver, 'q2')).equals(data));
  } finally {
    await tmp.remove();
  }
});

test('a write that lands while a sync runs is synced by the next sync (a restore syncs while it writes)', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  const driver = new FileVolumeDriver({ dir: join(tmp.path, 'volumes') });
  const probe = await open(join(tmp.path, 'probe'), 'w');
  const handleClass = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = handleClass.sync;
  let fsyncs = 0;
  let release: (() => void) | undefined;
  try {
    await driver.createVolume('v', MiB);
    handleClass.sync = async function (this: unknown) {
      fsyncs++;
      if (fsyncs === 1) await new Promise<void>((resolve) => (release = resolve));
      return realSync.call(this);
    };
    const file = await driver.openVolume('v', 'rw');
    await file.write(0, new Uint8Array(4096).fill(1));
    const first = file.sync();
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    await file.write(4096, new Uint8Array(4096).fill(2)); // lands while the first fsync runs
    release();
    await first;
    await file.sync();
    assert.is(fsyncs, 2, 'the second sync must not be skipped');
    await file.sync();
    assert.is(fsyncs, 2, 'nothing written since: no fsync');
    await file.close();
  } finally {
    handleClass.sync = realSync;
    await tmp.remove();
  }
});

test('writeDirect lands the same bytes as write from any memory: page-aligned chunk memory, a plain SharedArrayBuffer, a view at an odd offset, small and unaligned writes', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: tmp.path });
    const size = 16 * MiB;
    await driver.createVolume('d', size);
    const expected = Buffer.alloc(size);
    const file = await driver.openVolume('d', 'rw');
    assert.type(file.writeDirect, 'function');
    const aligned = new ChunkBuffers().take(4 * MiB);
    const shared = new Uint8Array(new SharedArrayBuffer(2 * MiB));
    const odd = new Uint8Array(3 * MiB + 4096).subarray(16, 16 + 3 * MiB);
    const writes: Array<[number, Uint8Array]> = [
      [0, aligned.subarray(0, 4 * MiB)], // O_DIRECT
      [4 * MiB, shared], // the kernel refuses its memory: through the page cache
      [6 * MiB + 4096, odd], // an odd offset in memory
      [10 * MiB, aligned.subarray(0, 8192)], // small
      [11 * MiB + 512, aligned.subarray(0, 2 * MiB)], // not at a page of the file
      [13 * MiB, aligned.subarray(4096, 4096 + MiB)], // aligned, from further into the memory
    ];
    for (const [i, [position, data]] of writes.entries()) {
      for (let b = 0; b < data.length; b += 4096) data[b] = (i * 31 + b / 4096) % 255 || 1;
      await file.writeDirect?.(position, data);
      expected.set(data, position);
    }
    await file.close();
    assert.ok((await readVolume(driver, 'd')).equals(expected));
    const again = await driver.openVolume('d', 'rw');
    await rejects(() => again.writeDirect?.(size - MiB, new Uint8Array(2 * MiB)) as Promise<void>, InvalidVolume);
    await again.close();
    const ro = await driver.openVolume('d', 'r');
    await rejects(() => ro.writeDirect?.(0, aligned) as Promise<void>, InvalidVolume);
    await ro.close();
  } finally {
    await tmp.remove();
  }
});

test('a raw volume restores through the engine with its chunks written past the page cache: the bytes match, zeros stay holes, and a chain of two lands in order', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: tmp.path });
    const size = 8 * MiB;
    const engine = new ChunkedBackupEngine({ chunkSizeBytes: 2 * MiB, shaBlockSizeBytes: 32 * 1024 }, { store: new MemoryBackupObjectStore(), clock: new ManualClock() });
    const data = knownData(size, 5);
    data.fill(0, 2 * MiB, 4 * MiB); // a chunk of zeros: not written on a new volume
    await driver.createVolume('src', size);
    await writeVolume(driver, 'src', data);
    const request = (id: string) => ({ id, volumeId: 'src', name: null, description: null, createdAt: 'x' });
    const src = await driver.openVolume('src', 'r');
    const full = await engine.backup(request('full'), src);
    await src.close();
    const changed = Buffer.from(data);
    changed.fill(9, 5 * MiB, 5 * MiB + 64 * 1024);
    await writeVolume(driver, 'src', changed);
    const src2 = await driver.openVolume('src', 'r');
    const incr = await engine.backup({ ...request('incr'), parent: full }, src2);
    await src2.close();
    for (const [id, chain, expected] of [['one', [full], data], ['two', [incr, full], changed]] as const) {
      await driver.createVolume(id, size);
      const dst = await driver.openVolume(id, 'rw');
      await engine.restore(chain, dst, { volumeIsNew: true });
      await dst.close();
      assert.ok((await readVolume(driver, id)).equals(expected), id);
      assert.ok((await stat(join(tmp.path, `volume-${id}`))).blocks * 512 <= 6 * MiB + 64 * 1024, `${id} is sparse`);
    }
  } finally {
    await tmp.remove();
  }
});

test('chunk memory is page-aligned, so a restore can write it with O_DIRECT (a SharedArrayBuffer is refused: EINVAL)', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  let fd: Awaited<ReturnType<typeof open>> | undefined;
  try {
    try {
      fd = await open(join(tmp.path, 'direct'), constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT);
    } catch {
      return; // a file system without O_DIRECT: writeDirect goes through the page cache there
    }
    const memory = new ChunkBuffers().take(MiB).fill(7);
    assert.is((await fd.write(memory, 0, MiB, 0)).bytesWritten, MiB);
  } finally {
    await fd?.close();
    await tmp.remove();
  }
});

async function rejects(fn: () => Promise<void>, type: new (...args: never[]) => Error): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, type);
    return;
  }
  assert.unreachable('expected a rejection');
}


test('an in-use qcow2 volume (a guest QEMU holds it for writing) still opens to read, without a mark to trust; marking it is refused', async () => {
  const tmp = await makeTempDir('swiftlet-volumes-');
  try {
    const driver = new FileVolumeDriver({ dir: tmp.path, defaultFormat: 'qcow2' });
    await driver.createVolume('used', 4 * MiB);
    const data = knownData(4 * MiB, 5);
    await writeVolume(driver, 'used', data);
    assert.is(await driver.markChanges('used', 'm'), true);
    // The guest: a writable qemu-nbd on the image (it takes QEMU's write lock and marks the bitmap in use).
    const pidFile = join(tmp.path, 'guest.pid');
    const guest = spawn('qemu-nbd', ['--socket', join(tmp.path, 'guest.sock'), '--pid-file', pidFile, '-f', 'qcow2', join(tmp.path, 'volume-used')], { stdio: 'ignore' });
    const gone = new Promise((r) => guest.once('close', r));
    try {
      for (let i = 0; i < 1000 && !existsSync(pidFile); i++) await sleep(5);
      const file = await driver.openVolume('used', 'r');
      try {
        assert.ok(Buffer.from(await file.read(0, 4 * MiB)).equals(data));
        assert.is(await file.changedSince?.('m'), undefined, 'a bitmap in use is not trusted');
      } finally {
        await file.close();
      }
      let refused = false;
      await driver.markChanges('used', 'n').catch(() => {
        refused = true;
      });
      assert.ok(refused, 'the guest holds the write lock');
    } finally {
      guest.kill('SIGTERM');
      await gone;
    }
  } finally {
    await tmp.remove();
  }
});

test.run();
