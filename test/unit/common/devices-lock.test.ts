import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEVICES_LOCK, DevicesInUseError, lockDevices } from '../../../common/devices-lock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

test('a second process on the same devices is refused with the first one\'s pid (it ran on, logging LEVEL_DATABASE_NOT_OPEN)', async () => {
  const dir = await makeTempDir('swiftlet-lock-');
  try {
    const first = await lockDevices(dir.path, 4242, () => true);
    assert.is((await readFile(join(dir.path, DEVICES_LOCK), 'utf8')).trim(), '4242');
    const err = await lockDevices(dir.path, 5353, (pid) => pid === 4242).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DevicesInUseError);
    assert.is(err.pid, 4242);
    assert.match(err.message, new RegExp(`devices ${dir.path} in use by pid 4242`));
    await first.release();
    const again = await lockDevices(dir.path, 5353, () => true);
    await again.release();
  } finally {
    await dir.remove();
  }
});

test('a lock left by a process that is gone (a crash, kill -9) is taken over; a missing devices root needs none', async () => {
  const dir = await makeTempDir('swiftlet-lock-');
  try {
    await writeFile(join(dir.path, DEVICES_LOCK), '999999\n');
    const lock = await lockDevices(dir.path, 7777, () => false);
    assert.is((await readFile(join(dir.path, DEVICES_LOCK), 'utf8')).trim(), '7777');
    await lock.release();
    assert.not.ok(await readFile(join(dir.path, DEVICES_LOCK)).then(() => true, () => false), 'released');
    const none = await lockDevices(join(dir.path, 'missing'), 7777, () => true);
    await none.release();
  } finally {
    await dir.remove();
  }
});

test.run();
