import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

// What `openstack volume set/unset`, `volume snapshot set/unset` and `volume backup set/unset`
// call beyond a name and description: metadata, the read-only flag, image properties.

let api: TestVolumeApi;
let alice: string;
let bob: string;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob, admin } = volumeUsers(api));
});
test.after(() => api.close());

async function made(path: string, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', `/v3/p-alice/${path}`, alice, { [key]: body });
  assert.ok(res.status === 202 || res.status === 200, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json[key].id;
}

test('volume set --property / unset --property (bug: 404 from /volumes/{id}/metadata): merged, shown, one key removed', async () => {
  const id = await made('volumes', 'volume', { size: 1, metadata: { a: '1' } });
  const merged = await api.request('POST', `/v3/p-alice/volumes/${id}/metadata`, alice, { metadata: { b: '2', a: 'one' } });
  assert.is(merged.status, 200);
  assert.equal(merged.json, { metadata: { a: 'one', b: '2' } });
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.metadata, { a: 'one', b: '2' });
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}/metadata/b`, alice)).json, { meta: { b: '2' } });

  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}/metadata/a`, alice)).status, 200);
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}/metadata`, alice)).json, { metadata: { b: '2' } });
  const missing = await api.request('DELETE', `/v3/p-alice/volumes/${id}/metadata/a`, alice);
  assert.equal(missing.json, { itemNotFound: { code: 404, message: 'Metadata item was not found' } });

  // cinderclient from 3.15 on unsets by replacing the whole set.
  const replaced = await api.request('PUT', `/v3/p-alice/volumes/${id}/metadata`, alice, { metadata: { c: '3' } });
  assert.equal(replaced.json, { metadata: { c: '3' } });
  const mismatch = await api.request('PUT', `/v3/p-alice/volumes/${id}/metadata/c`, alice, { meta: { d: '4' } });
  assert.equal(mismatch.json, { badRequest: { code: 400, message: 'Request body and URI mismatch' } });
  assert.equal((await api.request('PUT', `/v3/p-alice/volumes/${id}/metadata/c`, alice, { meta: { c: 'three' } })).json, { meta: { c: 'three' } });

  assert.is((await api.request('POST', `/v3/p-bob/volumes/${id}/metadata`, bob, { metadata: { x: 'y' } })).status, 404, "another project's volume");
});

test('volume snapshot set --property / unset --property: the snapshot shows its metadata', async () => {
  const vol = await made('volumes', 'volume', { size: 1 });
  const snap = await made('snapshots', 'snapshot', { volume_id: vol, metadata: { s: '1' } });
  assert.equal((await api.request('POST', `/v3/p-alice/snapshots/${snap}/metadata`, alice, { metadata: { t: '2' } })).json, { metadata: { s: '1', t: '2' } });
  assert.is((await api.request('DELETE', `/v3/p-alice/snapshots/${snap}/metadata/s`, alice)).status, 200);
  assert.equal((await api.request('GET', `/v3/p-alice/snapshots/${snap}`, alice)).json.snapshot.metadata, { t: '2' });
});

test('volume set --read-only / --read-write (bug: "no such action os-update_readonly_flag"): readonly among the metadata', async () => {
  const id = await made('volumes', 'volume', { size: 1, metadata: { k: 'v' } });
  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-update_readonly_flag': { readonly: true } })).status, 202);
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.metadata, { k: 'v', readonly: 'True' });
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}/metadata`, alice)).json.metadata, { k: 'v' }, 'the admin key is not user metadata');
  await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-update_readonly_flag': { readonly: false } });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.metadata.readonly, 'False');
  const bad = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-update_readonly_flag': {} });
  assert.equal(bad.json, { badRequest: { code: 400, message: 'Must specify readonly in request.' } });
});

test('volume set --image-property / unset --image-property: volume_image_metadata', async () => {
  const id = await made('volumes', 'volume', { size: 1 });
  const set = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-set_image_metadata': { metadata: { hw_disk_bus: 'scsi' } } });
  assert.equal(set.json, { metadata: { hw_disk_bus: 'scsi' } });
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.volume_image_metadata, { hw_disk_bus: 'scsi' });
  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-unset_image_metadata': { key: 'hw_disk_bus' } })).status, 200);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.volume_image_metadata, undefined);
  const again = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-unset_image_metadata': { key: 'hw_disk_bus' } });
  assert.equal(again.json, { itemNotFound: { code: 404, message: `Glance metadata for volume/snapshot ${id} cannot be found.` } });
});

test('volume backup set --name/--description (3.9) and --property (3.43) (bug: 405 on PUT /backups/{id})', async () => {
  const vol = await made('volumes', 'volume', { size: 1 });
  const backup = await made('backups', 'backup', { volume_id: vol, name: 'b' });
  const v39 = { 'OpenStack-API-Version': 'volume 3.9' };
  const v343 = { 'OpenStack-API-Version': 'volume 3.43' };
  assert.is((await api.request('PUT', `/v3/p-alice/backups/${backup}`, alice, { backup: { name: 'x' } })).status, 404, 'before 3.9 there is no update');
  const renamed = await api.request('PUT', `/v3/p-alice/backups/${backup}`, alice, { backup: { name: 'b2', description: 'd2' } }, v39);
  assert.is(renamed.status, 200);
  assert.is(renamed.json.backup.name, 'b2');
  const noMeta = await api.request('PUT', `/v3/p-alice/backups/${backup}`, alice, { backup: { metadata: { k: 'v' } } }, v39);
  assert.equal(noMeta.json, { badRequest: { code: 400, message: 'Unsupported fields metadata.' } });
  assert.is((await api.request('PUT', `/v3/p-alice/backups/${backup}`, alice, { backup: { metadata: { k: 'v' } } }, v343)).status, 200);
  const shown = (await api.request('GET', `/v3/p-alice/backups/${backup}`, alice, undefined, v343)).json.backup;
  assert.equal([shown.name, shown.description, shown.metadata], ['b2', 'd2', { k: 'v' }]);
});

test('volume service list (admin; a member gets 403), availability zone list --volume, volume message list (3.3)', async () => {
  const services = await api.request('GET', '/v3/p-admin/os-services', admin);
  assert.equal(
    services.json.services.map((s: Record<string, unknown>) => [s['binary'], s['host'], s['zone'], s['status'], s['state']]),
    [
      ['cinder-volume', 'test-host@file', 'nova', 'enabled', 'up'],
      ['cinder-backup', 'test-host', 'nova', 'enabled', 'up'],
    ],
  );
  assert.is((await api.request('GET', '/v3/p-admin/os-services?binary=cinder-backup', admin)).json.services.length, 1);
  assert.equal((await api.request('GET', '/v3/p-alice/os-services', alice)).json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:services:index to be performed." } });
  assert.equal((await api.request('GET', '/v3/p-alice/os-availability-zone', alice)).json, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
  assert.equal((await api.request('GET', '/v3/p-alice/messages', alice, undefined, { 'OpenStack-API-Version': 'volume 3.3' })).json, { messages: [] });
  assert.is((await api.request('GET', '/v3/p-alice/messages', alice)).status, 404, 'before 3.3');
});

test('a volume in maintenance keeps its metadata and image metadata as they are (Cinder refuses both changes)', async () => {
  const id = await made('volumes', 'volume', { size: 1, metadata: { k: 'v' } });
  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, admin, { 'os-reset_status': { status: 'maintenance' } })).status, 202);
  const refused = { badRequest: { code: 400, message: 'Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.' } };
  assert.equal((await api.request('POST', `/v3/p-alice/volumes/${id}/metadata`, alice, { metadata: { x: 'y' } })).json, refused);
  assert.equal((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-set_image_metadata': { metadata: { x: 'y' } } })).json, refused);
  assert.equal((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.metadata, { k: 'v' });
});

test.run();
