import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileAtomic } from '../../../../../common/atomic-write.ts';
import { FileVolumeDriver } from '../../../../../compute/volume/driver/file.ts';
import { listMarks } from '../../../../../compute/volume/driver/qcow2-bitmaps.ts';
import { startQemuNbd } from '../../../../../compute/volume/driver/qemu-nbd.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { rejects } from '../../../../helpers/rejects.ts';
import { withQcow2Image } from '../../../../helpers/qcow2-image.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';

/**
 * The file driver's sweep when the volume service starts (`sweepLeftovers`): what a process
 * that died mid-operation left in the volume directory goes, and nothing else does.
 */

const MiB = 1024 * 1024;

async function withVolumeDir(body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir('swiftlet-sweep-');
  try {
    await body(tmp.path);
  } finally {
    await tmp.remove();
  }
}

/** The process's state letter (R, S, Z...), or undefined once it is gone. */
async function processState(pid: number): Promise<string | undefined> {
  const line = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return line?.slice(line.lastIndexOf(')') + 2, line.lastIndexOf(')') + 3);
}

const running = async (pid: number): Promise<boolean> => {
  const state = await processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
};

async function spawnSleep(): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child as ChildProcess & { pid: number };
}

test('leftover .tmp-, .work- and sidecar temp files are gone after the sweep; volumes, snapshots and other files stay', async () => {
  await withVolumeDir(async (dir) => {
    const driver = new FileVolumeDriver({ dir });
    const data = knownData(2 * MiB, 7);
    await driver.createVolume('v1', 2 * MiB);
    await writeVolume(driver, 'v1', data);
    await driver.createSnapshot('s1', 'v1');
    const leftovers = ['.tmp-0123456789ab', '.work-ba9876543210.raw', '.snapshot-s2.info.4242.deadbeef.tmp'];
    for (const name of leftovers) await writeFile(join(dir, name), 'half written');
    await writeFile(join(dir, 'README.operator'), 'not the driver\'s');

    const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();

    assert.equal(swept, { partialFiles: 3, stoppedExports: 0, exportFiles: 0 });
    assert.equal((await readdir(dir)).sort(), ['README.operator', 'snapshot-s1', 'snapshot-s1.info', 'volume-v1']);
    assert.ok((await readVolume(driver, 'v1')).equals(data));
    assert.is((await driver.getSnapshot('s1'))?.volumeId, 'v1');
  });
});

test('an orphan snapshot sidecar (a crash in createSnapshot before its data file was linked) is swept; a snapshot\'s own sidecar stays', async () => {
  await withVolumeDir(async (dir) => {
    const driver = new FileVolumeDriver({ dir });
    await driver.createVolume('v1', MiB);
    await driver.createSnapshot('s1', 'v1');
    // What createSnapshot('s2') leaves when its process dies copying: the sidecar it wrote first,
    // and the copy under its temporary name (the data file `snapshot-s2` never linked).
    await writeFileAtomic(join(dir, 'snapshot-s2.info'), JSON.stringify({ volume_id: 'v1' }));
    await writeFile(join(dir, '.tmp-0123456789ab'), 'half copied');
    assert.equal(await driver.listSnapshots(), ['s1']);

    const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();

    assert.equal(swept, { partialFiles: 2, stoppedExports: 0, exportFiles: 0 });
    assert.equal((await readdir(dir)).sort(), ['snapshot-s1', 'snapshot-s1.info', 'volume-v1']);
    assert.is((await driver.getSnapshot('s1'))?.volumeId, 'v1');
    assert.is((await driver.createSnapshot('s2', 'v1')).volumeId, 'v1', 'the id is free again');
    assert.equal(await new FileVolumeDriver({ dir }).sweepLeftovers(), { partialFiles: 0, stoppedExports: 0, exportFiles: 0 }, 'a second sweep finds nothing');
  });
});

test('a sweep of a volume directory that does not exist yet finds nothing', async () => {
  await withVolumeDir(async (dir) => {
    assert.equal(await new FileVolumeDriver({ dir: join(dir, 'volumes') }).sweepLeftovers(), { partialFiles: 0, stoppedExports: 0, exportFiles: 0 });
  });
});

test('a qemu-nbd a dead process left serving a qcow2 volume (never connected) is ended, its files removed, its bitmap stored; the volume opens after', async () => {
  await withVolumeDir(async (dir) => {
    const driver = new FileVolumeDriver({ dir });
    await driver.createVolume('q1', 4 * MiB, { format: 'qcow2' });
    assert.ok(await driver.markChanges('q1', 'm1'));
    // As the driver starts one to write the volume; the handle is then dropped without stop()
    // (the process that started it died before connecting).
    const orphan = await startQemuNbd({ path: join(dir, 'volume-q1'), format: 'qcow2', readOnly: false, dir });
    try {
      assert.equal((await readdir(dir)).filter((n) => n.startsWith('nbd-')).length, 2);
      await rejects(driver.openVolume('q1', 'rw')); // the orphan holds the image's lock

      const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();

      assert.equal(swept, { partialFiles: 0, stoppedExports: 1, exportFiles: 2 });
      assert.not.ok(await running(orphan.pid), 'the orphan qemu-nbd has exited');
      assert.equal(await readdir(dir), ['volume-q1']);
      // SIGTERM let it close the image cleanly: its bitmap is stored, not left in use.
      assert.equal(await listMarks(join(dir, 'volume-q1')), [{ mark: 'm1', name: 'swiftlet-m1', trusted: true }]);
      const data = knownData(4 * MiB, 11);
      await writeVolume(driver, 'q1', data);
      assert.ok((await readVolume(driver, 'q1')).equals(data));
    } finally {
      await orphan.stop();
    }
  });
});

test('a pid file naming an unrelated live process (its pid reused) leaves that process alive; the stale files go', async () => {
  await withVolumeDir(async (dir) => {
    const sleeper = await spawnSleep();
    try {
      await writeFile(join(dir, 'nbd-0123456789ab.pid'), `${sleeper.pid}\n`);
      await writeFile(join(dir, 'nbd-0123456789ab.sock'), '');
      const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();
      assert.equal(swept, { partialFiles: 0, stoppedExports: 0, exportFiles: 2 });
      assert.ok(await running(sleeper.pid), 'the unrelated process still runs');
      assert.equal(await readdir(dir), []);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

test('a pid file naming another live qemu-nbd (serving someone else\'s image) leaves it serving', async () => {
  await withQcow2Image(MiB, async (image, elsewhere) => {
    const other = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir: elsewhere });
    try {
      await withVolumeDir(async (dir) => {
        await writeFile(join(dir, 'nbd-0123456789ab.pid'), `${other.pid}\n`);
        const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();
        assert.equal(swept, { partialFiles: 0, stoppedExports: 0, exportFiles: 1 });
        await sleep(50);
        assert.ok(await running(other.pid), 'the other qemu-nbd still runs');
        assert.ok((await readdir(elsewhere)).includes(other.socket.slice(elsewhere.length + 1)), 'and still serves its socket');
        assert.equal(await readdir(dir), []);
      });
    } finally {
      await other.stop();
    }
  });
});

test('a pid file whose qemu-nbd has exited, and a socket without one, are removed', async () => {
  await withVolumeDir(async (dir) => {
    const gone = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('close', resolve));
    await writeFile(join(dir, 'nbd-aaaaaaaaaaaa.pid'), `${gone.pid}\n`);
    await writeFile(join(dir, 'nbd-aaaaaaaaaaaa.sock'), '');
    await writeFile(join(dir, 'nbd-bbbbbbbbbbbb.sock'), '');
    await writeFile(join(dir, 'nbd-cccccccccccc.pid'), 'not a pid');
    const swept = await new FileVolumeDriver({ dir }).sweepLeftovers();
    assert.equal(swept, { partialFiles: 0, stoppedExports: 0, exportFiles: 4 });
    assert.equal(await readdir(dir), []);
  });
});

test.run();
