import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceUnavailableError } from '../../../common/errors.ts';
import { storageHandler } from '../../../common/http/storage-handler.ts';
import { HttpError } from '../../../common/http/http-error.ts';
import { createLogger } from '../../../common/logger.ts';
import { diskUsage } from '../../../replicator/node-facts.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

test('an unmounted device (mount_check) is reported as such, not as an empty disk (status showed "up 0.0/0.0 GB")', async () => {
  const dir = await makeTempDir('swiftlet-facts-');
  try {
    await mkdir(join(dir.path, 'sdb'));
    await mkdir(join(dir.path, '.hidden'));
    assert.equal(await diskUsage({ devices: dir.path, mountCheck: true }), [{ device: 'sdb', mounted: false }]);
    const [usable] = await diskUsage({ devices: dir.path, mountCheck: false });
    assert.is(usable?.device, 'sdb');
    assert.is(usable?.mounted, true);
    assert.ok(usable?.mounted === true && usable.size > 0 && usable.used + usable.avail <= usable.size);
  } finally {
    await dir.remove();
  }
});

test('a 507 is logged at warn level with its reason (it was an info line like any other)', async () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l), clock: new ManualClock(0) });
  const handle = storageHandler({
    name: 'object-server',
    routes: { GET: async () => { throw new DeviceUnavailableError('sdb', '/srv/node/sdb is not mounted'); } },
    toHttpError: (err) => (err instanceof DeviceUnavailableError ? new HttpError(507) : err),
    logger,
    clock: new ManualClock(0),
    logRequests: true,
  });
  const res = await handle({ method: 'GET', path: '/sdb/1/a/c/o', query: new URLSearchParams(), rawQuery: '', headers: {}, body: undefined as never, remoteAddress: '127.0.0.1', signal: new AbortController().signal });
  assert.is(res.status, 507);
  assert.is(lines.length, 1);
  const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.is(line['level'], 'warn');
  assert.match(String(line['reason']), /\/srv\/node\/sdb is not mounted/);
});

test.run();
