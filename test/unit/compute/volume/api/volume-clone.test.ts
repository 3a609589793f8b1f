import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

// `openstack volume create --source` (bug: "Invalid volume size provided for create request:
// None": source_volid was ignored) and `volume list --user`.

let api: TestVolumeApi;
let alice: string;
let bob: string;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob, admin } = volumeUsers(api));
});
test.after(() => api.close());

async function create(token: string, project: string, body: Record<string, unknown>): ReturnType<TestVolumeApi['request']> {
  const res = await api.request('POST', `/v3/${project}/volumes`, token, { volume: body });
  await api.worker.idle();
  return res;
}

test('volume create --source: the source size by default, its bytes, bootable and source_volid shown', async () => {
  const src = (await create(alice, 'p-alice', { size: 1, name: 'src' })).json.volume.id;
  const data = knownData(UNIT / 2, 7);
  await writeVolume(api.driver, src, data);
  await api.request('POST', `/v3/p-alice/volumes/${src}/action`, alice, { 'os-set_bootable': { bootable: true } });

  const made = await create(alice, 'p-alice', { source_volid: src, name: 'copy' });
  assert.is(made.status, 202, JSON.stringify(made.json));
  const clone = (await api.request('GET', `/v3/p-alice/volumes/${made.json.volume.id}`, alice)).json.volume;
  assert.equal([clone.status, clone.size, clone.source_volid, clone.bootable], ['available', 1, src, 'true']);
  assert.ok((await readVolume(api.driver, clone.id)).subarray(0, data.length).equals(data));

  const bigger = await create(alice, 'p-alice', { source_volid: src, size: 2 });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${bigger.json.volume.id}`, alice)).json.volume.size, 2);
});

test("volume create --source: refusals are Cinder's and make nothing", async () => {
  const src = (await create(alice, 'p-alice', { size: 2, name: 'src2' })).json.volume.id;
  const before = (await api.request('GET', '/v3/p-alice/volumes', alice)).json.volumes.length;
  const small = await create(alice, 'p-alice', { source_volid: src, size: 1 });
  assert.equal(small.json, { badRequest: { code: 400, message: 'Invalid input received: Volume size 1GB cannot be smaller than original volume size  2GB. They must be >= original volume size.' } });
  assert.is((await create(bob, 'p-bob', { source_volid: src })).status, 404, "another project's volume");
  const both = await create(alice, 'p-alice', { source_volid: src, snapshot_id: 'x' });
  assert.equal(both.json, { badRequest: { code: 400, message: 'Invalid input received: May specify only one of backup, imageRef, snapshot, source volume' } });
  await api.request('POST', `/v3/p-alice/volumes/${src}/action`, admin, { 'os-reset_status': { status: 'error' } });
  const broken = await create(alice, 'p-alice', { source_volid: src });
  assert.equal(broken.json, { badRequest: { code: 400, message: 'Invalid volume: Unable to create a volume from an originating source volume when its status is not one of available, in-use values' } });
  assert.is((await api.request('GET', '/v3/p-alice/volumes', alice)).json.volumes.length, before);
});

test('volume list --all-projects --user: only that user\'s volumes (bug: user_id was ignored)', async () => {
  await create(bob, 'p-bob', { size: 1, name: 'bobs' });
  const rows = (await api.request('GET', '/v3/p-admin/volumes/detail?all_tenants=1&user_id=bob', admin)).json.volumes;
  assert.equal(rows.map((v: { name: string }) => v.name), ['bobs']);
});

test.run();
