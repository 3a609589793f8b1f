import { spawn } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import { ConfigError } from '../../../../common/errors.ts';
import { holdVolumesDir } from '../../../../compute/volume/hold-volumes-dir.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

/** One volume service per volume directory on a host (what the driver's sweep at start relies on). */

test('a volume directory held by one service is refused to a second, under any spelling, until released', async () => {
  const tmp = await makeTempDir('swiftlet-hold-');
  try {
    const dir = join(tmp.path, 'volumes');
    const first = await holdVolumesDir(dir);
    await symlink(dir, join(tmp.path, 'alias'));
    await rejects(holdVolumesDir(dir), ConfigError);
    await rejects(holdVolumesDir(join(tmp.path, 'alias')), /in use by another volume service/);
    const other = await holdVolumesDir(join(tmp.path, 'other'));
    await other.release();
    await first.release();
    await first.release(); // twice is fine
    const again = await holdVolumesDir(dir);
    await again.release();
  } finally {
    await tmp.remove();
  }
});

test('a service that dies without releasing (SIGKILL) leaves no stale hold', async () => {
  const tmp = await makeTempDir('swiftlet-hold-');
  try {
    const dir = join(tmp.path, 'volumes');
    const module = new URL('../../../../compute/volume/hold-volumes-dir.ts', import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { holdVolumesDir } from ${JSON.stringify(module)}; await holdVolumesDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => (chunk.toString().includes('held') ? resolve() : undefined));
      child.once('close', () => reject(new Error('the holder exited early')));
    });
    await rejects(holdVolumesDir(dir), ConfigError);
    child.kill('SIGKILL');
    await closed;
    const after = await holdVolumesDir(dir);
    await after.release();
  } finally {
    await tmp.remove();
  }
});

test.run();
