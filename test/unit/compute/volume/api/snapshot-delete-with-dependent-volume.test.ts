import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * Regression: a snapshot that a qcow2 volume made from it still reads through could not be
 * deleted. Its delete answered 202 and the snapshot went back to `available` for good, so its
 * volume could never be deleted either (openstackclient's functional test_volume_snapshot waited
 * 120 s for it). Now the snapshot goes, as a thin LVM snapshot does; its local copy stays under
 * the volume that reads through it and goes with the last such volume.
 */
let api: TestVolumeApi;
let driver: MemoryVolumeDriver;
let alice: string;

test.before(async () => {
  driver = new MemoryVolumeDriver({ defaultFormat: 'qcow2' });
  api = await startVolumeApi({ driver });
  ({ alice } = volumeUsers(api));
});
test.after(() => api.close());

async function accepted(method: string, path: string, body?: unknown): Promise<{ volume: { id: string }; snapshot: { id: string } }> {
  const res = await api.request(method, path, alice, body);
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json;
}

test('snapshot delete with a volume made from it: the snapshot goes, the volume keeps its data, then both volumes delete and the copy goes', async () => {
  const src = (await accepted('POST', '/v3/p-alice/volumes', { volume: { size: 1, name: 'src' } })).volume.id;
  const data = knownData(UNIT / 4, 5);
  await writeVolume(api.driver, src, data);
  const sid = (await accepted('POST', '/v3/p-alice/snapshots', { snapshot: { volume_id: src, name: 's' } })).snapshot.id;
  const clone = (await accepted('POST', '/v3/p-alice/volumes', { volume: { snapshot_id: sid, name: 'clone' } })).volume.id;
  assert.is((await driver.getVolume(clone))?.backingSnapshot, sid, 'the clone reads through the local copy');

  await accepted('DELETE', `/v3/p-alice/snapshots/${sid}`);
  const gone = await api.request('GET', `/v3/p-alice/snapshots/${sid}`, alice);
  assert.equal(gone.json, { itemNotFound: { code: 404, message: `Snapshot ${sid} could not be found.` } });
  assert.ok(await driver.getSnapshot(sid), 'the copy stays while the clone reads through it');
  assert.ok((await readVolume(api.driver, clone)).subarray(0, data.length).equals(data));
  const quota = await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=true', alice);
  assert.is(quota.json.quota_set.snapshots.in_use, 0);

  await accepted('DELETE', `/v3/p-alice/volumes/${src}`);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${src}`, alice)).status, 404);
  await accepted('DELETE', `/v3/p-alice/volumes/${clone}`);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${clone}`, alice)).status, 404);
  assert.is(await driver.getSnapshot(sid), undefined, 'the copy went with its last volume');
});

test('a copy two volumes read through stays until the second goes', async () => {
  const src = (await accepted('POST', '/v3/p-alice/volumes', { volume: { size: 1 } })).volume.id;
  const sid = (await accepted('POST', '/v3/p-alice/snapshots', { snapshot: { volume_id: src } })).snapshot.id;
  const a = (await accepted('POST', '/v3/p-alice/volumes', { volume: { snapshot_id: sid } })).volume.id;
  const b = (await accepted('POST', '/v3/p-alice/volumes', { volume: { snapshot_id: sid } })).volume.id;
  await accepted('DELETE', `/v3/p-alice/snapshots/${sid}`);
  await accepted('DELETE', `/v3/p-alice/volumes/${a}`);
  assert.ok(await driver.getSnapshot(sid), 'b still reads through it');
  await accepted('DELETE', `/v3/p-alice/volumes/${b}`);
  assert.is(await driver.getSnapshot(sid), undefined);
  await accepted('DELETE', `/v3/p-alice/volumes/${src}`);
});

test('deleting a volume made from a snapshot that still exists keeps the snapshot and its copy', async () => {
  const src = (await accepted('POST', '/v3/p-alice/volumes', { volume: { size: 1 } })).volume.id;
  const sid = (await accepted('POST', '/v3/p-alice/snapshots', { snapshot: { volume_id: src } })).snapshot.id;
  const a = (await accepted('POST', '/v3/p-alice/volumes', { volume: { snapshot_id: sid } })).volume.id;
  await accepted('DELETE', `/v3/p-alice/volumes/${a}`);
  assert.ok(await driver.getSnapshot(sid));
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${sid}`, alice)).json.snapshot.status, 'available');
  await accepted('DELETE', `/v3/p-alice/snapshots/${sid}`);
  assert.is(await driver.getSnapshot(sid), undefined);
  await accepted('DELETE', `/v3/p-alice/volumes/${src}`);
});

test.run();
