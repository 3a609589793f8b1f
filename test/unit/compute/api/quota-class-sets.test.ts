import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** os-quota-class-sets, the quota fields each microversion shows, and the extension list. */
let c: TestCompute;
let admin: string;
let demo: string;
let demoProject: string;

test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  demoProject = (await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id;
});
test.after(() => c.close());

test('quota sets: no networks field; nova-network quotas before 2.36, personality before 2.57', async () => {
  const at21 = (await c.request('GET', `/v2.1/os-quota-sets/${demoProject}`, { token: demo })).json.quota_set;
  assert.equal(Object.keys(at21).sort(), ['cores', 'fixed_ips', 'floating_ips', 'id', 'injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files', 'instances', 'key_pairs', 'metadata_items', 'ram', 'security_group_rules', 'security_groups', 'server_group_members', 'server_groups']);
  assert.is(at21.security_groups, -1);
  const at236 = (await c.request('GET', `/v2.1/os-quota-sets/${demoProject}/detail`, { token: demo, version: '2.36' })).json.quota_set;
  assert.not.ok('fixed_ips' in at236);
  assert.not.ok('networks' in at236);
  assert.equal(at236.injected_files, { in_use: 0, limit: 5, reserved: 0 });
  const at257 = (await c.request('GET', `/v2.1/os-quota-sets/${demoProject}/defaults`, { token: demo, version: '2.57' })).json.quota_set;
  assert.equal(Object.keys(at257).sort(), ['cores', 'id', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups']);
  // `networks` went with nova-network: a 400 like any unknown quota.
  const networks = await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { networks: 3 } } });
  assert.equal(networks.json, { badRequest: { code: 400, message: "Invalid input for field/attribute quota_set. Value: {'networks': 3}. Additional properties are not allowed ('networks' was unexpected)" } });
  // Before 2.36 the nova-network quotas are still set (and shown) as Nova stores them; from 2.36 they are refused.
  const legacy = await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { floating_ips: 4 } } });
  assert.is(legacy.json.quota_set.floating_ips, 4);
  assert.is((await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, version: '2.36', body: { quota_set: { floating_ips: 4 } } })).status, 400);
  await c.request('DELETE', `/v2.1/os-quota-sets/${demoProject}`, { token: admin });
});

test('quota class sets: admins only; server groups from 2.50, nova-network quotas before it, personality before 2.57', async () => {
  const at21 = await c.request('GET', '/v2.1/os-quota-class-sets/default', { token: admin });
  assert.equal(at21.json.quota_class_set, { id: 'default', cores: 20, instances: 10, ram: 51200, metadata_items: 128, key_pairs: 100, injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255, fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1 });
  const at250 = (await c.request('GET', '/v2.1/os-quota-class-sets/default', { token: admin, version: '2.50' })).json.quota_class_set;
  assert.is(at250.server_groups, 10);
  assert.not.ok('fixed_ips' in at250);
  assert.ok('injected_files' in at250);
  assert.not.ok('injected_files' in (await c.request('GET', '/v2.1/os-quota-class-sets/default', { token: admin, version: '2.57' })).json.quota_class_set);
  const refused = await c.request('GET', '/v2.1/os-quota-class-sets/default', { token: demo });
  assert.equal(refused.json, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed." } });
  const notAdmin = await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: demo, body: { quota_class_set: { cores: 1 } } });
  assert.is(notAdmin.status, 403);
  assert.is((await c.request('GET', `/v2.1/os-quota-sets/${demoProject}`, { token: demo })).json.quota_set.cores, 20);
});

test('quota class sets: `default` sets the defaults of projects without their own limits; other classes apply to none', async () => {
  await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { cores: 7 } } });
  const set = await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: admin, body: { quota_class_set: { key_pairs: 33, cores: '30', instances: -1 } } });
  assert.is(set.status, 200);
  assert.not.ok('id' in set.json.quota_class_set);
  assert.is(set.json.quota_class_set.key_pairs, 33);
  assert.is(set.json.quota_class_set.instances, -1);
  const own = (await c.request('GET', `/v2.1/os-quota-sets/${demoProject}`, { token: demo })).json.quota_set;
  assert.is(own.key_pairs, 33);
  assert.is(own.cores, 7);
  assert.is((await c.request('GET', '/v2.1/os-quota-sets/elsewhere', { token: admin })).json.quota_set.cores, 30);
  assert.is((await c.request('GET', `/v2.1/os-quota-sets/${demoProject}/defaults`, { token: demo })).json.quota_set.key_pairs, 33);
  assert.is((await c.request('GET', '/v2.1/limits', { token: demo })).json.limits.absolute.maxTotalKeypairs, 33);
  const gold = await c.request('PUT', '/v2.1/os-quota-class-sets/gold', { token: admin, version: '2.50', body: { quota_class_set: { server_groups: 2 } } });
  assert.is(gold.json.quota_class_set.server_groups, 2);
  assert.is((await c.request('GET', '/v2.1/os-quota-sets/elsewhere', { token: admin })).json.quota_set.server_groups, 10);
  await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: admin, body: { quota_class_set: { key_pairs: 100, cores: 20, instances: 10 } } });
  await c.request('DELETE', `/v2.1/os-quota-sets/${demoProject}`, { token: admin });
});

test('quota class sets: bad input is Nova\'s 400 and changes nothing', async () => {
  const unknown = await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: admin, version: '2.50', body: { quota_class_set: { cores: 5, fixed_ips: 1 } } });
  assert.equal(unknown.json, { badRequest: { code: 400, message: "Invalid input for field/attribute quota_class_set. Value: {'cores': 5, 'fixed_ips': 1}. Additional properties are not allowed ('fixed_ips' was unexpected)" } });
  const low = await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: admin, body: { quota_class_set: { cores: -2 } } });
  assert.equal(low.json, { badRequest: { code: 400, message: 'Invalid input for field/attribute cores. Value: -2. -2 is less than the minimum of -1' } });
  const missing = await c.request('PUT', '/v2.1/os-quota-class-sets/default', { token: admin, body: { quota_set: { cores: 1 } } });
  assert.equal(missing.json, { badRequest: { code: 400, message: "'quota_class_set' is a required property" } });
  assert.is((await c.request('GET', '/v2.1/os-quota-class-sets/default', { token: admin })).json.quota_class_set.cores, 20);
});

test('extensions: Nova\'s fixed v2 list to any user, one by alias, 404 for another', async () => {
  const list = await c.request('GET', '/v2.1/extensions', { token: demo });
  assert.is(list.status, 200);
  assert.is(list.json.extensions.length, 99);
  assert.ok(list.json.extensions.some((e: { name: string }) => e.name === 'ImageSize'));
  const one = await c.request('GET', '/v2.1/extensions/OS-EXT-IMG-SIZE', { token: demo });
  assert.equal(one.json, { extension: { alias: 'OS-EXT-IMG-SIZE', description: 'Adds image size to image listings.', links: [], name: 'ImageSize', namespace: 'http://docs.openstack.org/compute/ext/fake_xml', updated: '2014-12-03T00:00:00Z' } });
  const none = await c.request('GET', '/v2.1/extensions/os-nothing', { token: demo });
  assert.equal(none.json, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
});

test.run();
