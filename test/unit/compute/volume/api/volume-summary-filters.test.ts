import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

// `cinder summary` (bug: "Volume summary could not be found" at 3.12) and `openstack block
// storage resource filter list` / `cinder list-filters` (bug: 404 at 3.33).

let api: TestVolumeApi;
let alice: string;
let bob: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob } = volumeUsers(api));
});
test.after(() => api.close());

test('volume summary (3.12): count and GiB of the project, distinct metadata from 3.36; before 3.12 a volume named summary', async () => {
  for (const [size, env] of [[1, 'prod'], [2, 'prod'], [3, 'dev']] as const) await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size, metadata: { env } } });
  await api.worker.idle();
  const v312 = await api.request('GET', '/v3/p-alice/volumes/summary', alice, undefined, { 'OpenStack-API-Version': 'volume 3.12' });
  assert.equal(v312.json, { 'volume-summary': { total_size: 6, total_count: 3 } });
  const v336 = await api.request('GET', '/v3/p-alice/volumes/summary', alice, undefined, { 'OpenStack-API-Version': 'volume 3.36' });
  assert.equal(v336.json['volume-summary'].metadata, { env: ['prod', 'dev'] });
  const old = await api.request('GET', '/v3/p-alice/volumes/summary', alice);
  assert.equal(old.json, { itemNotFound: { code: 404, message: 'Volume summary could not be found.' } });
  assert.equal((await api.request('GET', '/v3/p-bob/volumes/summary', bob, undefined, { 'OpenStack-API-Version': 'volume 3.12' })).json, { 'volume-summary': { total_size: 0, total_count: 0 } });
});

test('resource filters (3.33): the filters each listing applies, one resource with ?resource=', async () => {
  const all = await api.request('GET', '/v3/p-alice/resource_filters', alice, undefined, { 'OpenStack-API-Version': 'volume 3.33' });
  assert.ok(all.json.resource_filters.some((f: { resource: string }) => f.resource === 'backup'));
  const one = await api.request('GET', '/v3/p-alice/resource_filters?resource=volume', alice, undefined, { 'OpenStack-API-Version': 'volume 3.33' });
  assert.equal(one.json, { resource_filters: [{ resource: 'volume', filters: ['name', 'status', 'metadata', 'bootable', 'availability_zone'] }] });
  assert.is((await api.request('GET', '/v3/p-alice/resource_filters', alice)).status, 404, 'before 3.33');
});

test.run();
