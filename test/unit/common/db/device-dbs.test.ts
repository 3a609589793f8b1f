import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DatabasesClosedError, DeviceDbs } from '../../../../common/db/device-dbs.ts';
import { DeviceUnavailableError } from '../../../../common/errors.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

class FakeDb {
  closed = false;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

test('one database per device, opened once at <device>/<datadir>, even under concurrent first use', async () => {
  const dir = await makeTempDir();
  try {
    await mkdir(join(dir.path, 'sda1'));
    const opened: string[] = [];
    const dbs = new DeviceDbs<FakeDb>({
      devices: dir.path,
      mountCheck: false,
      datadir: 'containers',
      clock: new ManualClock(),
      open: async (path) => {
        opened.push(path);
        return new FakeDb(path);
      },
    });
    const [a, b] = await Promise.all([dbs.get('sda1'), dbs.get('sda1')]);
    assert.is(a, b);
    assert.equal(opened, [join(dir.path, 'sda1', 'containers')]);
    assert.equal(dbs.openDevices(), ['sda1']);
    await dbs.close();
    assert.is(a.closed, true);
    await rejects(dbs.get('sda1'), DatabasesClosedError);
  } finally {
    await dir.remove();
  }
});

test('a missing device, a bad name or an unmounted device is refused; a failed open is retried', async () => {
  const dir = await makeTempDir();
  try {
    await mkdir(join(dir.path, 'sda1'));
    let attempts = 0;
    const dbs = new DeviceDbs<FakeDb>({
      devices: dir.path,
      mountCheck: false,
      datadir: 'accounts',
      clock: new ManualClock(),
      open: async (path) => {
        attempts += 1;
        if (attempts === 1) throw new Error('transient');
        return new FakeDb(path);
      },
    });
    await rejects(dbs.get('sdz'), DeviceUnavailableError);
    await rejects(dbs.get('..'), DeviceUnavailableError);
    await rejects(dbs.get('sda1'), /transient/);
    assert.ok(await dbs.get('sda1'));
    const checked = new DeviceDbs<FakeDb>({ devices: dir.path, mountCheck: true, datadir: 'accounts', clock: new ManualClock(), open: async (path) => new FakeDb(path) });
    await rejects(checked.get('sda1'), DeviceUnavailableError);
  } finally {
    await dir.remove();
  }
});

test('a passed device check is trusted for recheckMs, then made again', async () => {
  const dir = await makeTempDir();
  try {
    await mkdir(join(dir.path, 'sda1'));
    const clock = new ManualClock();
    const dbs = new DeviceDbs<FakeDb>({ devices: dir.path, mountCheck: false, datadir: 'containers', clock, recheckMs: 1000, open: async (path) => new FakeDb(path) });
    await dbs.get('sda1');
    await rm(join(dir.path, 'sda1'), { recursive: true });
    clock.advance(999);
    assert.ok(await dbs.get('sda1'), 'still trusted');
    clock.advance(1);
    await rejects(dbs.get('sda1'), DeviceUnavailableError);
    await mkdir(join(dir.path, 'sda1'));
    assert.ok(await dbs.get('sda1'), 'back once the device is');
    await dbs.close();
  } finally {
    await dir.remove();
  }
});

test.run();
