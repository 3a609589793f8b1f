import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

// `cinder revert-to-snapshot` (3.40; bug: "There is no such action: revert").

let api: TestVolumeApi;
let alice: string;
let admin: string;
const V340 = { 'OpenStack-API-Version': 'volume 3.40' };

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, admin } = volumeUsers(api));
});
test.after(() => api.close());

/** A volume holding `before` in its first quarter, snapshotted, then written over with other bytes further on too. */
async function changedSinceSnapshot(): Promise<{ id: string; sid: string; before: Buffer }> {
  const id = (await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } })).json.volume.id;
  await api.worker.idle();
  const before = knownData(UNIT / 4, 11);
  await writeVolume(api.driver, id, before);
  const sid = (await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id } })).json.snapshot.id;
  await api.worker.idle();
  const file = await api.driver.openVolume(id, 'rw');
  await file.write(1000, knownData(5000, 12));
  await file.write(UNIT / 2, knownData(UNIT / 8, 13));
  await file.close();
  return { id, sid, before };
}

async function expectReverted(id: string, before: Buffer): Promise<void> {
  const now = await readVolume(api.driver, id);
  assert.ok(now.subarray(0, before.length).equals(before), 'the snapshot bytes are back');
  assert.ok(now.subarray(before.length).every((b) => b === 0), 'and zeros where the snapshot had zeros');
}

test('revert (3.40): the volume holds the latest snapshot again, both available after', async () => {
  const { id, sid, before } = await changedSinceSnapshot();
  const res = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { revert: { snapshot_id: sid } }, V340);
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${sid}`, alice)).json.snapshot.status, 'available');
  await expectReverted(id, before);
});

test('revert from the cluster when this host lost its copy of the snapshot', async () => {
  const { id, sid, before } = await changedSinceSnapshot();
  await api.driver.deleteSnapshot(sid);
  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { revert: { snapshot_id: sid } }, V340)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  await expectReverted(id, before);
});

test("revert refusals are Cinder's: not the latest snapshot, before 3.40, a volume not available", async () => {
  const { id, sid } = await changedSinceSnapshot();
  const newer = (await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id } })).json.snapshot.id;
  await api.worker.idle();
  const old = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { revert: { snapshot_id: sid } }, V340);
  assert.equal(old.json, { badRequest: { code: 400, message: `Specified snapshot ${sid} is None or not the latest one of volume ${id}.` } });
  const early = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { revert: { snapshot_id: newer } });
  assert.equal(early.json, { badRequest: { code: 400, message: 'There is no such action: revert' } });
  await api.request('POST', `/v3/p-alice/volumes/${id}/action`, admin, { 'os-reset_status': { status: 'error' } });
  const busy = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { revert: { snapshot_id: newer } }, V340);
  assert.is(busy.status, 409);
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${newer}`, alice)).json.snapshot.status, 'available', 'the snapshot untouched');
});

test.run();
