import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/** `openstack volume set --type T [--retype-policy]`: Cinder's os-retype on this service's one backend. */
test("os-retype moves the volume and its part of the type's own quotas to the new type; Cinder's refusals change nothing", async () => {
  const api = await startVolumeApi();
  try {
    const { admin } = volumeUsers(api);
    const carol = api.token('carol', 'p-carol');
    for (const name of ['gold', 'silver']) assert.is((await api.request('POST', '/v3/p-admin/types', admin, { volume_type: { name } })).status, 200);
    const made = await api.request('POST', '/v3/p-carol/volumes', carol, { volume: { size: 2 } });
    await api.worker.idle();
    const id = made.json.volume.id as string;
    const snap = await api.request('POST', '/v3/p-carol/snapshots', carol, { snapshot: { volume_id: id } });
    await api.worker.idle();
    const retype = (body: unknown) => api.request('POST', `/v3/p-carol/volumes/${id}/action`, carol, body);
    const show = async () => (await api.request('GET', `/v3/p-carol/volumes/${id}`, carol)).json.volume;
    const usage = async () => {
      const q = (await api.request('GET', '/v3/p-carol/os-quota-sets/p-carol?usage=true', carol)).json.quota_set;
      return Object.fromEntries(['volumes___DEFAULT__', 'gigabytes___DEFAULT__', 'volumes_gold', 'gigabytes_gold', 'volumes_silver', 'volumes', 'gigabytes'].map((k) => [k, q[k]?.in_use]));
    };
    assert.equal(await usage(), { volumes___DEFAULT__: 1, gigabytes___DEFAULT__: 4, volumes_gold: 0, gigabytes_gold: 0, volumes_silver: 0, volumes: 1, gigabytes: 4 }, 'the snapshot counts in gigabytes');

    const res = await retype({ 'os-retype': { new_type: 'gold', migration_policy: 'never' } });
    assert.is(res.status, 202, JSON.stringify(res.json));
    const v = await show();
    assert.equal([v.volume_type, v.status], ['gold', 'available']);
    assert.equal(await usage(), { volumes___DEFAULT__: 0, gigabytes___DEFAULT__: 2, volumes_gold: 1, gigabytes_gold: 2, volumes_silver: 0, volumes: 1, gigabytes: 4 }, 'only the volume\'s part of the types\' own quotas moves; the snapshot stays where it was counted');

    const message = async (body: unknown) => {
      const r = await retype(body);
      return [r.status, (Object.values(r.json ?? {})[0] as { message?: string } | undefined)?.message];
    };
    assert.equal(await message({ 'os-retype': { new_type: 'gold' } }), [400, 'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.']);
    assert.equal(await message({ 'os-retype': { new_type: 'bronze' } }), [404, 'Volume type with name bronze could not be found.']);
    assert.equal(await message({ 'os-retype': { new_type: 'silver', migration_policy: 'always' } }), [400, "Invalid input for field/attribute migration_policy. Value: always. 'always' is not one of ['on-demand', 'never']"]);
    assert.equal(await message({ 'os-retype': { migration_policy: 'never' } }), [400, "Invalid input for field/attribute os-retype. Value: {'migration_policy': 'never'}. 'new_type' is a required property"]);
    assert.is((await api.request('PUT', '/v3/p-admin/os-quota-sets/p-carol', admin, { quota_set: { volumes_silver: 0 } })).status, 200);
    const full = await retype({ 'os-retype': { new_type: 'silver' } });
    assert.equal([full.status, full.json.overLimit?.message ?? JSON.stringify(full.json)], [413, "Maximum number of volumes allowed (0) exceeded for quota 'volumes_silver'."]);
    assert.equal([(await show()).volume_type, (await show()).status], ['gold', 'available'], 'left as it was');
    assert.equal((await usage()).volumes_gold, 1);
    // The snapshot's delete gives back what it took, where it took it.
    assert.is((await api.request('DELETE', `/v3/p-carol/snapshots/${snap.json.snapshot.id}`, carol)).status, 202);
    await api.worker.idle();
    assert.equal(await usage(), { volumes___DEFAULT__: 0, gigabytes___DEFAULT__: 0, volumes_gold: 1, gigabytes_gold: 2, volumes_silver: 0, volumes: 1, gigabytes: 2 });
  } finally {
    await api.close();
  }
});

test.run();
