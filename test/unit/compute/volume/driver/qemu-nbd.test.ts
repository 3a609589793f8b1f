import { execFileSync } from 'node:child_process';
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NbdClient } from '../../../../../compute/volume/driver/nbd-client.ts';
import { NbdError } from '../../../../../compute/volume/driver/nbd-error.ts';
import { startQemuNbd } from '../../../../../compute/volume/driver/qemu-nbd.ts';
import { InvalidVolume } from '../../../../../compute/volume/errors.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { rejects } from '../../../../helpers/rejects.ts';
import { withQcow2Image } from '../../../../helpers/qcow2-image.ts';

/** Starting and stopping qemu-nbd (Debian qemu-utils) on a temporary qcow2 image. */

const MiB = 1024 * 1024;



test('qemu-nbd serves on a socket in dir once started; stop() ends it and removes its files', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, bitmaps: [], dir });
    assert.ok(nbd.socket.startsWith(dir));
    await access(nbd.socket);
    process.kill(nbd.pid, 0);
    await nbd.stop();
    await nbd.stop(); // twice is fine
    assert.throws(() => process.kill(nbd.pid, 0));
    assert.instance(await rejects(access(nbd.socket)), Error);
    assert.equal(await readdir(dir), ['vol.qcow2']);
  });
});

test('qemu-nbd serves one client: a second connection waits unanswered, and connect gives up after its timeout', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir });
    try {
      const first = await NbdClient.connect(nbd.socket);
      const err = await rejects(NbdClient.connect(nbd.socket, { handshakeTimeoutMs: 300 }));
      assert.instance(err, NbdError);
      assert.is((err as NbdError).errnoName, 'ETIMEDOUT');
      assert.is(await first.readInto(new Uint8Array(10), 0), 10);
      await first.close();
    } finally {
      await nbd.stop();
    }
  });
});

test('a raw image is served as it is', async () => {
  const tmp = await makeTempDir('swiftlet-qemu-nbd-');
  try {
    const image = join(tmp.path, 'vol.raw');
    const bytes = new Uint8Array(MiB + 512).map((_, i) => i % 251);
    await writeFile(image, bytes);
    const nbd = await startQemuNbd({ path: image, format: 'raw', readOnly: true, dir: tmp.path });
    try {
      const client = await NbdClient.connect(nbd.socket);
      assert.is(client.size, bytes.length);
      const back = new Uint8Array(bytes.length);
      await client.readInto(back, 0);
      assert.ok(Buffer.from(back).equals(bytes));
      await client.close();
    } finally {
      await nbd.stop();
    }
  } finally {
    await tmp.remove();
  }
});

test('a bitmap the image lacks: startQemuNbd rejects with what qemu-nbd said', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    const err = await rejects(startQemuNbd({ path: image, format: 'qcow2', readOnly: true, bitmaps: ['swiftlet-nope'], dir }));
    assert.instance(err, InvalidVolume);
    assert.match((err as Error).message, "Bitmap 'swiftlet-nope' is not found");
  });
});

test('a bitmap a killed writer left in use: startQemuNbd rejects saying it is inconsistent (the caller falls back to a full backup)', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    execFileSync('qemu-img', ['bitmap', '--add', '--enable', image, 'swiftlet-a']);
    const writer = await startQemuNbd({ path: image, format: 'qcow2', readOnly: false, dir });
    const client = await NbdClient.connect(writer.socket);
    await client.write(0, new Uint8Array(4096).fill(1));
    await client.flush();
    process.kill(writer.pid, 'SIGKILL');
    await writer.stop();
    await client.close();
    const err = await rejects(startQemuNbd({ path: image, format: 'qcow2', readOnly: true, bitmaps: ['swiftlet-a'], dir }));
    assert.instance(err, InvalidVolume);
    assert.match((err as Error).message, "Bitmap 'swiftlet-a' is inconsistent");
  });
});

test('an image another qemu-nbd has open for writing: startQemuNbd rejects with the lock error', async () => {
  await withQcow2Image(4 * MiB, async (image, dir) => {
    const writer = await startQemuNbd({ path: image, format: 'qcow2', readOnly: false, dir });
    try {
      const err = await rejects(startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir }));
      assert.instance(err, InvalidVolume);
      assert.match((err as Error).message, 'lock');
    } finally {
      await writer.stop();
    }
  });
});

test('no qemu-nbd installed: InvalidVolume says which package to install', async () => {
  const tmp = await makeTempDir('swiftlet-nbd-');
  try {
    const err = await rejects(startQemuNbd({ binary: join(tmp.path, 'qemu-nbd'), path: join(tmp.path, 'x'), format: 'qcow2', readOnly: true, dir: tmp.path }));
    assert.instance(err, InvalidVolume);
    assert.match((err as Error).message, 'Debian qemu-utils');
  } finally {
    await tmp.remove();
  }
});

test.run();
