import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

// `openstack volume transfer request create/list/show/delete/accept` (bug: 404, no transfers API).

let api: TestVolumeApi;
let alice: string;
let bob: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob } = volumeUsers(api));
});
test.after(() => api.close());

async function volume(name: string): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, name } });
  await api.worker.idle();
  return res.json.volume.id;
}

test('a transfer: the volume awaiting-transfer, listed for its owner; accepted by another project with the key, its bytes and quota move', async () => {
  const id = await volume('gift');
  const data = knownData(UNIT / 4, 5);
  await writeVolume(api.driver, id, data);
  const made = await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id, name: 't1' } });
  assert.is(made.status, 202, JSON.stringify(made.json));
  const { id: tid, auth_key: key } = made.json.transfer;
  assert.match(key, /^[0-9a-f]{16}$/);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'awaiting-transfer');
  const listed = await api.request('GET', '/v3/p-alice/os-volume-transfer/detail', alice);
  assert.equal(listed.json.transfers.map((t: { id: string; name: string; volume_id: string }) => [t.id, t.name, t.volume_id]), [[tid, 't1', id]]);
  assert.is(listed.json.transfers[0].auth_key, undefined, 'the key is shown once');
  assert.is((await api.request('GET', '/v3/p-bob/os-volume-transfer', bob)).json.transfers.length, 0);
  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice)).status, 400, 'a volume awaiting transfer stays');

  const wrong = await api.request('POST', `/v3/p-bob/os-volume-transfer/${tid}/accept`, bob, { accept: { auth_key: '0000000000000000' } });
  assert.equal(wrong.json, { badRequest: { code: 400, message: `Invalid auth key: Attempt to transfer ${tid} with invalid auth key.` } });
  const accepted = await api.request('POST', `/v3/p-bob/os-volume-transfer/${tid}/accept`, bob, { accept: { auth_key: key } });
  assert.is(accepted.status, 202);
  assert.equal([accepted.json.transfer.id, accepted.json.transfer.volume_id], [tid, id]);

  const mine = (await api.request('GET', `/v3/p-bob/volumes/${id}`, bob)).json.volume;
  assert.equal([mine.status, mine.user_id, mine['os-vol-tenant-attr:tenant_id']], ['available', 'bob', 'p-bob']);
  assert.ok((await readVolume(api.driver, id)).subarray(0, data.length).equals(data));
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).status, 404);
  assert.is((await api.request('GET', `/v3/p-alice/os-volume-transfer/${tid}`, alice)).status, 404);
  const usage = async (token: string, project: string) => (await api.request('GET', `/v3/${project}/os-quota-sets/${project}?usage=true`, token)).json.quota_set.volumes.in_use;
  assert.equal([await usage(alice, 'p-alice'), await usage(bob, 'p-bob')], [0, 1]);
  const again = await api.request('POST', `/v3/p-bob/os-volume-transfer/${tid}/accept`, bob, { accept: { auth_key: key } });
  assert.equal(again.json, { itemNotFound: { code: 404, message: `Transfer ${tid} could not be found.` } });
});

test('a transfer deleted: the volume available again; one of a volume with snapshots or not available: refused', async () => {
  const id = await volume('kept');
  const tid = (await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } })).json.transfer.id;
  const twice = await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } });
  assert.equal(twice.json, { badRequest: { code: 400, message: 'Invalid volume: status must be available' } });
  assert.is((await api.request('DELETE', `/v3/p-alice/os-volume-transfer/${tid}`, alice)).status, 202);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');

  await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id } });
  await api.worker.idle();
  const withSnap = await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } });
  assert.is(withSnap.status, 400);
  assert.match(withSnap.json.badRequest.message, /has snapshots/);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  assert.is((await api.request('GET', '/v3/p-alice/volume-transfers', alice)).status, 404, '/volume-transfers is 3.55');
  assert.is((await api.request('GET', '/v3/p-alice/volume-transfers', alice, undefined, { 'OpenStack-API-Version': 'volume 3.55' })).status, 200);
});

test.run();
