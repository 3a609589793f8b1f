import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/** Cinder's os-quota-class-sets: admins read and set a class; `default` is every project's defaults. */
let api: TestVolumeApi;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ admin } = volumeUsers(api));
});
test.after(() => api.close());

test('show: a class with none of its own has the defaults, and its id; admins only', async () => {
  const shown = await api.request('GET', '/v3/p-admin/os-quota-class-sets/gold', admin);
  assert.is(shown.status, 200);
  assert.equal(shown.json.quota_class_set, {
    volumes: 10,
    per_volume_gigabytes: -1,
    snapshots: 10,
    gigabytes: 1000,
    backups: 10,
    backup_gigabytes: 1000,
    volumes___DEFAULT__: -1,
    gigabytes___DEFAULT__: -1,
    snapshots___DEFAULT__: -1,
    groups: 10,
    id: 'gold',
  });
  const carol = api.token('carol', 'p-carol');
  const refused = await api.request('GET', '/v3/p-carol/os-quota-class-sets/default', carol);
  assert.equal(refused.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quota_classes:get to be performed." } });
  const notAdmin = await api.request('PUT', '/v3/p-carol/os-quota-class-sets/default', carol, { quota_class_set: { volumes: 1 } });
  assert.equal(notAdmin.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quota_classes:update to be performed." } });
  assert.is((await api.request('GET', '/v3/p-admin/os-quota-class-sets/default', admin)).json.quota_class_set.volumes, 10);
});

test('update default: the answer has no id; projects without their own limits take it, a project with its own keeps them', async () => {
  const own = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-own', admin, { quota_set: { snapshots: 7 } });
  assert.is(own.status, 200);
  const set = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_class_set: { snapshots: 43, volumes: '12' } });
  assert.is(set.status, 200);
  assert.is(set.json.quota_class_set.snapshots, 43);
  assert.is(set.json.quota_class_set.volumes, 12);
  assert.not.ok('id' in set.json.quota_class_set);
  const dave = await api.request('GET', '/v3/p-admin/os-quota-sets/p-dave', admin);
  assert.is(dave.json.quota_set.snapshots, 43);
  assert.is(dave.json.quota_set.volumes, 12);
  assert.is((await api.request('GET', '/v3/p-admin/os-quota-sets/p-dave/defaults', admin)).json.quota_set.snapshots, 43);
  const kept = await api.request('GET', '/v3/p-admin/os-quota-sets/p-own', admin);
  assert.is(kept.json.quota_set.snapshots, 7);
  assert.is(kept.json.quota_set.volumes, 12);
  // Another class falls back to the default class where it has none of its own.
  const gold = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/gold', admin, { quota_class_set: { volumes: 99 } });
  assert.is(gold.json.quota_class_set.volumes, 99);
  assert.is(gold.json.quota_class_set.snapshots, 43);
  assert.is((await api.request('GET', '/v3/p-admin/os-quota-sets/p-dave', admin)).json.quota_set.volumes, 12);
  await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_class_set: { snapshots: 10, volumes: 10 } });
});

test('bad input: Cinder\'s 400s, and nothing changes', async () => {
  const unknown = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_class_set: { volumes: 5, bogus: 1 } });
  assert.equal(unknown.json, { badRequest: { code: 400, message: "Invalid input for field/attribute quota_class_set. Value: {'volumes': 5, 'bogus': 1}. {'volumes': 5, 'bogus': 1} is not a 'quota_class_set'" } });
  const low = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_class_set: { volumes: -2 } });
  assert.equal(low.json, { badRequest: { code: 400, message: 'Invalid input for field/attribute volumes. Value: -2. -2 is less than the minimum of -1' } });
  const text = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_class_set: { volumes: 'ten' } });
  assert.equal(text.json, { badRequest: { code: 400, message: "Invalid input for field/attribute volumes. Value: ten. 'ten' does not match '^[0-9]*$'" } });
  const missing = await api.request('PUT', '/v3/p-admin/os-quota-class-sets/default', admin, { quota_set: { volumes: 1 } });
  assert.is(missing.status, 400);
  assert.is((await api.request('GET', '/v3/p-admin/os-quota-class-sets/default', admin)).json.quota_class_set.volumes, 10);
});

test.run();
