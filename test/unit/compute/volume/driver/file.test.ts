import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedBackupEngine } from '../../../../../compute/volume/backup/chunked-backup.ts';
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

test.run();
