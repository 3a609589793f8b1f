import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let admin: string;
let alice: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, admin } = volumeUsers(api));
});
test.after(() => api.close());

test('volume types: an admin creates one with extra specs; members list and use it; volumes show its name; its quotas appear', async () => {
  const made = await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'gold', description: 'fast', extra_specs: { volume_backend_name: 'file', multiattach: '<is> False' } } });
  assert.is(made.status, 200, JSON.stringify(made.json));
  const gold = made.json.volume_type;
  assert.is(gold.name, 'gold');
  assert.is(gold.is_public, true);
  assert.equal(gold.extra_specs, { volume_backend_name: 'file', multiattach: '<is> False' });
  assert.is(gold['os-volume-type-access:is_public'], true);

  const again = await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'gold' } });
  assert.equal(again.json, { conflictingRequest: { code: 409, message: 'Volume Type gold already exists.' } });
  const asMember = await api.request('POST', '/v3/p-alice/types', alice, { volume_type: { name: 'mine' } });
  assert.equal(asMember.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:type_create to be performed." } });

  const listed = await api.request('GET', '/v3/p-alice/types', alice);
  assert.equal(listed.json.volume_types.map((t: { name: string }) => t.name), ['__DEFAULT__', 'gold']);
  const seen = listed.json.volume_types[1];
  assert.equal(seen.extra_specs, { multiattach: '<is> False' }, 'a member sees only the user-visible extra specs');
  assert.is((await api.request('GET', '/v3/p-alice/types/default', alice)).json.volume_type.name, '__DEFAULT__');

  const vol = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'gold' } });
  assert.is(vol.status, 202, JSON.stringify(vol.json));
  await api.worker.idle();
  const shown = await api.request('GET', `/v3/p-alice/volumes/${vol.json.volume.id}`, alice, undefined, { 'OpenStack-API-Version': 'volume 3.63' });
  assert.is(shown.json.volume.volume_type, 'gold');
  assert.is(shown.json.volume.volume_type_id, gold.id);
  const byId = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: gold.id } });
  assert.is(byId.status, 202);
  await api.worker.idle();
  const unknown = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'silver' } });
  assert.equal(unknown.json, { itemNotFound: { code: 404, message: 'Volume type with name silver could not be found.' } });

  const quotas = await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=true', alice);
  assert.equal(quotas.json.quota_set.volumes_gold, { limit: -1, in_use: 2, reserved: 0 });
  assert.equal(quotas.json.quota_set.gigabytes_gold, { limit: -1, in_use: 2, reserved: 0 });
  assert.equal(quotas.json.quota_set.volumes___DEFAULT__, { limit: -1, in_use: 0, reserved: 0 });
  await api.request('PUT', '/v3/p-admin/os-quota-sets/p-alice', admin, { quota_set: { volumes_gold: 2 } });
  const overType = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'gold' } });
  assert.equal(overType.json, { overLimit: { code: 413, message: "Maximum number of volumes allowed (2) exceeded for quota 'volumes_gold'.", retryAfter: '0' } });

  // In use: its extra specs stay, it cannot be deleted.
  const specs = await api.request('POST', `/v3/p-admin/types/${gold.id}/extra_specs`, admin, { extra_specs: { k: 'v' } });
  assert.equal(specs.json, { badRequest: { code: 400, message: 'Volume Type is currently in use.' } });
  const del = await api.request('DELETE', `/v3/p-admin/types/${gold.id}`, admin);
  assert.equal(del.json, { badRequest: { code: 400, message: 'Target volume type is still in use.' } });
  const def = await api.request('DELETE', '/v3/p-admin/types/c4a8b3c0-3d5c-4b8e-9f62-5e4a1a4f7d10', admin);
  assert.equal(def.json, { badRequest: { code: 400, message: 'The volume type c4a8b3c0-3d5c-4b8e-9f62-5e4a1a4f7d10 is a default volume type and cannot be deleted.' } });
});

test('extra specs of an unused type: set, show one, replace one, delete one; then the type is deleted (202)', async () => {
  const t = (await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'bronze', 'os-volume-type-access:is_public': false } })).json.volume_type;
  assert.is(t.is_public, false);
  assert.not.ok((await api.request('GET', '/v3/p-alice/types', alice)).json.volume_types.some((x: { name: string }) => x.name === 'bronze'), 'a private type is for admins');
  assert.is((await api.request('GET', `/v3/p-alice/types/${t.id}`, alice)).status, 404);
  const set = await api.request('POST', `/v3/p-admin/types/${t.id}/extra_specs`, admin, { extra_specs: { a: '1', b: '2' } });
  assert.equal(set.json, { extra_specs: { a: '1', b: '2' } });
  assert.equal((await api.request('GET', `/v3/p-admin/types/${t.id}/extra_specs/a`, admin)).json, { a: '1' });
  assert.equal((await api.request('PUT', `/v3/p-admin/types/${t.id}/extra_specs/a`, admin, { a: '3' })).json, { a: '3' });
  const mismatch = await api.request('PUT', `/v3/p-admin/types/${t.id}/extra_specs/a`, admin, { b: '3' });
  assert.equal(mismatch.json, { badRequest: { code: 400, message: 'Request body and URI mismatch' } });
  assert.is((await api.request('DELETE', `/v3/p-admin/types/${t.id}/extra_specs/b`, admin)).status, 202);
  const gone = await api.request('GET', `/v3/p-admin/types/${t.id}/extra_specs/b`, admin);
  assert.equal(gone.json, { itemNotFound: { code: 404, message: `Volume Type ${t.id} has no extra specs with key b.` } });
  assert.equal((await api.request('GET', `/v3/p-admin/types/${t.id}/extra_specs`, admin)).json, { extra_specs: { a: '3' } });
  const renamed = await api.request('PUT', `/v3/p-admin/types/${t.id}`, admin, { volume_type: { name: 'copper', is_public: true } });
  assert.is(renamed.json.volume_type.name, 'copper');
  assert.is(renamed.json.volume_type.is_public, true);
  assert.is((await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'bronze' } })).status, 200, 'the old name is free again');
  assert.is((await api.request('DELETE', `/v3/p-admin/types/${t.id}`, admin)).status, 202);
  assert.is((await api.request('GET', `/v3/p-admin/types/${t.id}`, admin)).status, 404);
});

test('volume type set --project (bug: 404 from addProjectAccess): a private type shared with a project, listed and used by its members', async () => {
  const made = await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name: 'shared', 'os-volume-type-access:is_public': false } });
  const id = made.json.volume_type.id;
  assert.equal((await api.request('GET', `/v3/p-admin/types/${id}/os-volume-type-access`, admin)).json, { volume_type_access: [] });
  assert.is((await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'shared' } })).status, 404, 'not shared yet');

  assert.is((await api.request('POST', `/v3/p-admin/types/${id}/action`, admin, { addProjectAccess: { project: 'p-alice' } })).status, 202);
  const twice = await api.request('POST', `/v3/p-admin/types/${id}/action`, admin, { addProjectAccess: { project: 'p-alice' } });
  assert.equal(twice.json, { conflictingRequest: { code: 409, message: `Volume type access for ${id} / p-alice combination already exists.` } });
  assert.equal((await api.request('GET', `/v3/p-admin/types/${id}/os-volume-type-access`, admin)).json, { volume_type_access: [{ volume_type_id: id, project_id: 'p-alice' }] });
  assert.ok((await api.request('GET', '/v3/p-alice/types', alice)).json.volume_types.some((t: { name: string }) => t.name === 'shared'));
  assert.is((await api.request('GET', `/v3/p-alice/types/${id}`, alice)).status, 200);
  assert.is((await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, volume_type: 'shared' } })).status, 202);
  await api.worker.idle();
  const asMember = await api.request('POST', `/v3/p-alice/types/${id}/action`, alice, { removeProjectAccess: { project: 'p-alice' } });
  assert.equal(asMember.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_type_access:removeProjectAccess to be performed." } });

  assert.is((await api.request('POST', `/v3/p-admin/types/${id}/action`, admin, { removeProjectAccess: { project: 'p-alice' } })).status, 202);
  assert.is((await api.request('GET', `/v3/p-alice/types/${id}`, alice)).status, 404);
  const publicType = (await api.request('GET', '/v3/p-admin/types/default', admin)).json.volume_type.id;
  assert.equal((await api.request('GET', `/v3/p-admin/types/${publicType}/os-volume-type-access`, admin)).json, { itemNotFound: { code: 404, message: 'Access list not available for public volume types.' } });
});

test.run();
