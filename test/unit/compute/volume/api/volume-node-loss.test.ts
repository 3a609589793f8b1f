import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileVolumeDriver } from '../../../../../compute/volume/driver/file.ts';
import { changeSpots, knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';

/**
 * Issue 19's "a backup survives the loss of the node that held its volume": the volume service's
 * node is lost with its volume directory; a volume service started on another node (an empty
 * volume directory, the same records and backup objects in the cluster) restores the full and
 * the incremental backups into new volumes there, byte for byte. (Snapshots: volume-snapshots-cluster.test.ts.)
 */
test('backups made on a node that is then lost restore on another node: full and incremental, the same bytes', async () => {
  const dir = await makeTempDir('volume-node-loss-');
  let second: TestVolumeApi | undefined;
  let firstOpen = true;
  const first = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node1') }) });
  try {
    const token = volumeUsers(first).alice;
    const created = await first.request('POST', '/v3/p-alice/volumes', token, { volume: { size: 1, name: 'data' } });
    await first.worker.idle();
    const volumeId = created.json.volume.id as string;
    const original = knownData(UNIT, 19);
    await writeVolume(first.driver, volumeId, original);
    const full = (await first.request('POST', '/v3/p-alice/backups', token, { backup: { volume_id: volumeId, name: 'full' } })).json.backup.id as string;
    await first.worker.idle();
    const changed = Buffer.from(original);
    changeSpots(changed, 0.01, 3);
    await writeVolume(first.driver, volumeId, changed);
    const incremental = (await first.request('POST', '/v3/p-alice/backups', token, { backup: { volume_id: volumeId, name: 'incr', incremental: true } })).json.backup.id as string;
    await first.worker.idle();
    assert.equal((await first.request('GET', '/v3/p-alice/backups/detail', token)).json.backups.map((b: { status: string }) => b.status), ['available', 'available']);

    // The node is lost: its service and its volume directory.
    await first.close();
    firstOpen = false;
    await rm(join(dir.path, 'node1'), { recursive: true, force: true });

    second = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node2') }), cluster: first });
    const again = volumeUsers(second).alice;
    const api = second;
    const restore = async (backup: string): Promise<Buffer> => {
      const res = await api.request('POST', `/v3/p-alice/backups/${backup}/restore`, again, { restore: { name: `from-${backup}` } });
      assert.is(res.status, 202, JSON.stringify(res.json));
      await api.worker.idle();
      const id = res.json.restore.volume_id as string;
      assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, again)).json.volume.status, 'available');
      return (await readVolume(api.driver, id)).subarray(0, UNIT);
    };
    assert.ok((await restore(incremental)).equals(changed), 'the incremental restores the changed bytes on the other node');
    assert.ok((await restore(full)).equals(original), 'the full backup restores the first bytes');
  } finally {
    if (firstOpen) await first.close();
    await second?.close();
    await dir.remove();
  }
});

test.run();
