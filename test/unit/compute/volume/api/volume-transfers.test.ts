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

test('a transfer deleted: the volume available again; one of a volume not available: refused', async () => {
  const id = await volume('kept');
  const tid = (await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } })).json.transfer.id;
  const twice = await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } });
  assert.equal(twice.json, { badRequest: { code: 400, message: 'Invalid volume: status must be available' } });
  assert.is((await api.request('DELETE', `/v3/p-alice/os-volume-transfer/${tid}`, alice)).status, 202);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');

  assert.is((await api.request('GET', '/v3/p-alice/volume-transfers', alice)).status, 404, '/volume-transfers is 3.55');
  assert.is((await api.request('GET', '/v3/p-alice/volume-transfers', alice, undefined, { 'OpenStack-API-Version': 'volume 3.55' })).status, 200);
});

const V355 = { 'OpenStack-API-Version': 'volume 3.55' };

async function snapshot(volumeId: string, name: string): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: volumeId, name } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json.snapshot.id;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read Cinder's JSON freely
async function usage(token: string, project: string): Promise<any> {
  const q = (await api.request('GET', `/v3/${project}/os-quota-sets/${project}?usage=true`, token)).json.quota_set;
  return { volumes: q.volumes.in_use, snapshots: q.snapshots.in_use, gigabytes: q.gigabytes.in_use, snapshots___DEFAULT__: q.snapshots___DEFAULT__.in_use };
}

const names = (rows: Array<{ name: string }>) => rows.map((r) => r.name).sort();

test('a volume with snapshots is transferred with them (3.55, no_snapshots false by default): the taker sees both, the donor neither; the quota moves; the snapshots still restore, revert and delete in the new project', async () => {
  const carol = api.token('carol', 'p-carol');
  const id = (await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, name: 'with-snaps' } })).json.volume.id;
  await api.worker.idle();
  const data = knownData(UNIT / 4, 21);
  await writeVolume(api.driver, id, data);
  const s1 = await snapshot(id, 's1');
  await writeVolume(api.driver, id, knownData(UNIT / 4, 22));
  const s2 = await snapshot(id, 's2');
  const before = { alice: await usage(alice, 'p-alice'), carol: await usage(carol, 'p-carol') };
  const made = await api.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: id, name: 'ts' } }, V355);
  assert.is(made.status, 202, JSON.stringify(made.json));
  assert.is(made.json.transfer.no_snapshots, false);
  const shown = await api.request('GET', `/v3/p-alice/volume-transfers/${made.json.transfer.id}`, alice, undefined, { 'OpenStack-API-Version': 'volume 3.57' });
  assert.equal([shown.json.transfer.no_snapshots, shown.json.transfer.source_project_id, shown.json.transfer.accepted], [false, 'p-alice', false]);
  const accepted = await api.request('POST', `/v3/p-carol/volume-transfers/${made.json.transfer.id}/accept`, carol, { accept: { auth_key: made.json.transfer.auth_key } }, V355);
  assert.is(accepted.status, 202, JSON.stringify(accepted.json));

  // The taker's view: the volume and both snapshots, theirs.
  const theirs = (await api.request('GET', '/v3/p-carol/snapshots/detail', carol)).json.snapshots;
  assert.equal(names(theirs), ['s1', 's2']);
  for (const s of theirs) assert.equal([s.volume_id, s.status, s['os-extended-snapshot-attributes:project_id']], [id, 'available', 'p-carol']);
  assert.is((await api.request('GET', `/v3/p-carol/snapshots/${s1}`, carol, undefined, { 'OpenStack-API-Version': 'volume 3.41' })).json.snapshot.user_id, 'carol');
  assert.is((await api.request('GET', `/v3/p-carol/volumes/${id}`, carol)).json.volume.status, 'available');
  // The donor's: none of them.
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).status, 404);
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${s1}`, alice)).status, 404);
  assert.equal(names((await api.request('GET', '/v3/p-alice/snapshots/detail', alice)).json.snapshots).filter((n) => n === 's1' || n === 's2'), []);
  // Quotas: one volume, two snapshots and their GiB (Cinder counts snapshot GiB in gigabytes) moved.
  const after = { alice: await usage(alice, 'p-alice'), carol: await usage(carol, 'p-carol') };
  assert.equal(after.alice, { volumes: before.alice.volumes - 1, snapshots: before.alice.snapshots - 2, gigabytes: before.alice.gigabytes - 3, snapshots___DEFAULT__: before.alice.snapshots___DEFAULT__ - 2 });
  assert.equal(after.carol, { volumes: 1, snapshots: 2, gigabytes: 3, snapshots___DEFAULT__: 2 });

  // The snapshots' bytes came along: s1 from the cluster (this host's copy gone), as a new volume of carol's.
  await api.driver.deleteSnapshot(s1);
  const fromSnap = await api.request('POST', '/v3/p-carol/volumes', carol, { volume: { size: 1, snapshot_id: s1 } });
  assert.is(fromSnap.status, 202, JSON.stringify(fromSnap.json));
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-carol/volumes/${fromSnap.json.volume.id}`, carol)).json.volume.status, 'available');
  assert.ok((await readVolume(api.driver, fromSnap.json.volume.id)).subarray(0, data.length).equals(data));
  // A revert to the latest, and deletes, in the new project.
  assert.is((await api.request('POST', `/v3/p-carol/volumes/${id}/action`, carol, { revert: { snapshot_id: s2 } }, { 'OpenStack-API-Version': 'volume 3.40' })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-carol/volumes/${id}`, carol)).json.volume.status, 'available');
  for (const s of [s2, s1]) assert.is((await api.request('DELETE', `/v3/p-carol/snapshots/${s}`, carol)).status, 202);
  await api.worker.idle();
  assert.equal((await usage(carol, 'p-carol')).snapshots, 0);
  assert.equal((await usage(alice, 'p-alice')).snapshots, before.alice.snapshots - 2, "the donor's count untouched by the taker's deletes");
});

test('before 3.55 (os-volume-transfer) the snapshots go too, as Cinder has moved them since Stein', async () => {
  const dave = api.token('dave', 'p-dave');
  const id = await volume('old-api');
  const s = await snapshot(id, 'old-snap');
  const made = await api.request('POST', '/v3/p-alice/os-volume-transfer', alice, { transfer: { volume_id: id } });
  assert.is(made.status, 202, JSON.stringify(made.json));
  assert.is(made.json.transfer.no_snapshots, undefined, 'not shown before 3.55');
  assert.is((await api.request('POST', `/v3/p-dave/os-volume-transfer/${made.json.transfer.id}/accept`, dave, { accept: { auth_key: made.json.transfer.auth_key } })).status, 202);
  assert.is((await api.request('GET', `/v3/p-dave/snapshots/${s}`, dave)).json.snapshot.status, 'available');
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${s}`, alice)).status, 404);
});

test('no_snapshots (3.55) is refused for a volume that has snapshots, and kept for one without; a snapshot not available refuses the transfer (InvalidSnapshot)', async () => {
  const id = await volume('ns');
  const s = await snapshot(id, 'ns-snap');
  const refused = await api.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: id, no_snapshots: true } }, V355);
  assert.is(refused.status, 400);
  assert.match(refused.json.badRequest.message, /^Invalid volume: Volume .* has snapshots/);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  assert.equal((await api.request('GET', '/v3/p-alice/volume-transfers', alice, undefined, V355)).json.transfers.filter((t: { volume_id: string }) => t.volume_id === id), []);

  const admin = api.token('root', 'p-admin', true);
  assert.is((await api.request('POST', `/v3/p-alice/snapshots/${s}/action`, admin, { 'os-reset_status': { status: 'error' } })).status, 202);
  const busy = await api.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: id } }, V355);
  assert.equal(busy.json, { badRequest: { code: 400, message: `Invalid snapshot: snapshot: ${s} status must be available` } });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');

  const bare = await volume('ns-bare');
  const made = await api.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: bare, no_snapshots: true } }, V355);
  assert.is(made.status, 202, JSON.stringify(made.json));
  assert.is(made.json.transfer.no_snapshots, true);
  assert.is((await api.request('GET', `/v3/p-alice/volume-transfers/${made.json.transfer.id}`, alice, undefined, V355)).json.transfer.no_snapshots, true);
});

test('an accept the taker has no snapshot quota for is 413 and changes nothing; a snapshot that stopped being available since the offer: 400, nothing moved, the offer still stands', async () => {
  const erin = api.token('erin', 'p-erin');
  const admin = api.token('root', 'p-admin', true);
  const id = await volume('quota');
  const [a, b] = [await snapshot(id, 'q1'), await snapshot(id, 'q2')];
  const made = (await api.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: id } }, V355)).json.transfer;
  const accept = () => api.request('POST', `/v3/p-erin/volume-transfers/${made.id}/accept`, erin, { accept: { auth_key: made.auth_key } }, V355);
  const aliceBefore = await usage(alice, 'p-alice');
  assert.is((await api.request('PUT', `/v3/p-admin/os-quota-sets/p-erin`, admin, { quota_set: { snapshots: 1 } })).status, 200);
  const over = await accept();
  assert.is(over.status, 413);
  assert.equal(over.json.overLimit.message, 'Maximum number of snapshots allowed (1) exceeded');
  assert.equal(await usage(erin, 'p-erin'), { volumes: 0, snapshots: 0, gigabytes: 0, snapshots___DEFAULT__: 0 });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'awaiting-transfer');

  assert.is((await api.request('PUT', `/v3/p-admin/os-quota-sets/p-erin`, admin, { quota_set: { snapshots: 10 } })).status, 200);
  assert.is((await api.request('POST', `/v3/p-alice/snapshots/${b}/action`, admin, { 'os-reset_status': { status: 'error' } })).status, 202);
  const busy = await accept();
  assert.equal(busy.json, { badRequest: { code: 400, message: `Invalid snapshot: Transfer ${made.id}: Snapshot ${b} is not in the expected available state.` } });
  assert.equal(names((await api.request('GET', '/v3/p-erin/snapshots/detail', erin)).json.snapshots), []);
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${a}`, alice)).json.snapshot.status, 'available', 'the one moved first is back');
  assert.equal(await usage(erin, 'p-erin'), { volumes: 0, snapshots: 0, gigabytes: 0, snapshots___DEFAULT__: 0 });
  assert.equal(await usage(alice, 'p-alice'), aliceBefore);

  // Made available again, the same offer goes through.
  assert.is((await api.request('POST', `/v3/p-alice/snapshots/${b}/action`, admin, { 'os-reset_status': { status: 'available' } })).status, 202);
  assert.is((await accept()).status, 202);
  assert.equal(names((await api.request('GET', '/v3/p-erin/snapshots/detail', erin)).json.snapshots), ['q1', 'q2']);
});

test.run();
