import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readQcow2Bitmaps } from '../../../../../compute/volume/driver/qcow2-bitmap-directory.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';

/** The bitmap directory read from the file, against what qemu-img itself says of real images. */
let dir: { path: string; remove(): Promise<void> };
test.before(async () => {
  dir = await makeTempDir('qcow2-bitmaps-');
});
test.after(() => dir.remove());

const img = (name: string, ...extra: string[]): string => {
  const path = join(dir.path, name);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', ...extra, path, '64M']);
  return path;
};
const qemuImgSays = (path: string): Array<{ name: string; flags: string[] }> => {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', path]).toString());
  return info['format-specific']?.data?.bitmaps ?? [];
};

test('no bitmaps; then two (one disabled, names of any length) as qemu-img lists them', async () => {
  const path = img('two.qcow2');
  assert.equal(await readQcow2Bitmaps(path), []);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-g', '65536', path, 'swiftlet-a']);
  const long = `swiftlet-${'x'.repeat(37)}`;
  execFileSync('qemu-img', ['bitmap', '--add', '--disable', path, long]);
  const ours = await readQcow2Bitmaps(path);
  assert.equal(ours, [
    { name: 'swiftlet-a', inUse: false, auto: true },
    { name: long, inUse: false, auto: false },
  ]);
  assert.equal(
    qemuImgSays(path).map((b) => ({ name: b.name, auto: b.flags.includes('auto') })),
    ours?.map((b) => ({ name: b.name, auto: b.auto })),
  );
  execFileSync('qemu-img', ['bitmap', '--remove', path, 'swiftlet-a']);
  assert.equal(await readQcow2Bitmaps(path), [{ name: long, inUse: false, auto: false }]);
});

test('a bitmap left by a QEMU that died while writing the image is in use (not to be trusted)', async () => {
  const path = img('died.qcow2');
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', path, 'swiftlet-m']);
  const socket = join(dir.path, 'died.sock');
  const pidFile = join(dir.path, 'died.pid');
  // A writable export: QEMU marks the image's bitmaps in use when it opens it (the pid file says it has).
  const nbd = spawn('qemu-nbd', ['--socket', socket, '--pid-file', pidFile, '-f', 'qcow2', path], { stdio: 'ignore' });
  const closed = new Promise((r) => nbd.once('close', r));
  try {
    for (let i = 0; i < 1000 && !existsSync(pidFile); i++) await sleep(5);
    assert.equal(await readQcow2Bitmaps(path), [{ name: 'swiftlet-m', inUse: true, auto: true }], 'a writer has it open');
  } finally {
    nbd.kill('SIGKILL');
    await closed;
  }
  assert.equal(await readQcow2Bitmaps(path), [{ name: 'swiftlet-m', inUse: true, auto: true }]);
  assert.ok(qemuImgSays(path)[0]?.flags.includes('in-use'), 'qemu-img agrees');
});

test('a version 2 image and a raw file have no bitmap directory', async () => {
  assert.is(await readQcow2Bitmaps(img('v2.qcow2', '-o', 'compat=0.10')), undefined);
  const raw = join(dir.path, 'raw');
  writeFileSync(raw, Buffer.alloc(1 << 20));
  assert.is(await readQcow2Bitmaps(raw), undefined);
});

test.run();
