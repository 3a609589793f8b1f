import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackupStoreError } from '../../../../../compute/volume/backup/store-errors.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { changeSpots, knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * Changed-block tracking as the service runs it (Cinder's NFS driver with
 * `nfs_qcow2_volumes`): each backup marks the volume as it starts; the next incremental reads
 * only what changed after its parent's mark; a finished backup keeps only its own mark, a
 * failed one drops its own and leaves its parent's.
 */
let api: TestVolumeApi;
let alice: string;
const driver = new MemoryVolumeDriver({ defaultFormat: 'qcow2' });

test.before(async () => {
  api = await startVolumeApi({ driver });
  ({ alice } = volumeUsers(api));
});
test.after(() => api.close());

async function backup(volumeId: string, incremental: boolean): Promise<{ id: string; status: string; object_count: number }> {
  const res = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: volumeId, incremental } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return (await api.request('GET', `/v3/p-alice/backups/${res.json.backup.id}`, alice)).json.backup;
}

/** Which of `marks` the volume can answer `changedSince` for. */
async function marksOf(volumeId: string, marks: readonly string[]): Promise<string[]> {
  const file = await driver.openVolume(volumeId, 'r');
  try {
    const known: string[] = [];
    for (const m of marks) if ((await file.changedSince?.(m)) !== undefined) known.push(m);
    return known;
  } finally {
    await file.close();
  }
}

test('each backup of a qcow2 volume marks it; the incremental uses its parent\'s mark; a failed backup leaves the parent\'s', async () => {
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } });
  await api.worker.idle();
  const id = res.json.volume.id as string;
  assert.is((await driver.getVolume(id))?.format, 'qcow2');
  const original = knownData(UNIT, 3);
  await writeVolume(driver, id, original);

  const full = await backup(id, false);
  assert.is(full.status, 'available');
  assert.equal(await marksOf(id, [full.id]), [full.id]);

  const changed = Buffer.from(original);
  const spots = changeSpots(changed, 0.01, 2);
  const w = await driver.openVolume(id, 'rw');
  for (const [s, e] of spots) await w.write(s, changed.subarray(s, e));
  await w.close();

  // A backup that fails (the store refuses a chunk) drops its own mark, keeps the full's.
  const store = api.stores.get('p-alice');
  assert.ok(store);
  const put = store.put.bind(store);
  store.put = async () => {
    throw new BackupStoreError('PUT: 503');
  };
  const failed = await backup(id, true);
  store.put = put;
  assert.is(failed.status, 'error');
  assert.equal(await marksOf(id, [full.id, failed.id]), [full.id]);

  const incr = await backup(id, true);
  assert.is(incr.status, 'available');
  assert.is(incr.object_count, 2, 'the two changed runs');
  assert.equal(await marksOf(id, [full.id, failed.id, incr.id]), [incr.id], 'only the newest backup\'s mark is kept');

  const restored = await api.request('POST', `/v3/p-alice/backups/${incr.id}/restore`, alice, { restore: { name: 'back' } });
  await api.worker.idle();
  assert.ok((await readVolume(driver, restored.json.restore.volume_id)).subarray(0, changed.length).equals(changed));
});

test.run();
