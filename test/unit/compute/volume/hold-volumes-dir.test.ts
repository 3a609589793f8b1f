import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import { ConfigError } from '../../../../common/errors.ts';
import { holdVolumesDir } from '../../../../compute/volume/hold-volumes-dir.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { makeTempDir } from '../../../helpers/tmpdir.ts';

/**
 * One volume service per volume directory on a host (what the driver's sweep at start relies
 * on). The claim itself (other processes, SIGKILL) is common/claim-directory.ts's, tested there.
 */

test('a volume directory held by one service is refused to a second, under any spelling, naming the holder, until released', async () => {
  const tmp = await makeTempDir('swiftlet-hold-');
  try {
    const dir = join(tmp.path, 'volumes');
    const first = await holdVolumesDir(dir); // made if missing
    await symlink(dir, join(tmp.path, 'alias'));
    await rejects(holdVolumesDir(dir), ConfigError);
    await rejects(holdVolumesDir(join(tmp.path, 'alias')), new RegExp(`config volume.volumes_dir = .*: in use by pid ${process.pid} on this host \\(one volume service per volume directory\\)`));
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

test.run();
