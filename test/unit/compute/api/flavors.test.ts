import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** Flavors as `openstack flavor create/list/show/set/delete` and novaclient see them. */
let c: TestCompute;
let admin: string;
let demo: string;
let demoProject: string;
test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  const me = await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } });
  demoProject = me.json.token.project.id;
});
test.after(() => c.close());

test('create: Nova\'s shape at 2.1 (swap "", rxtx 1.0), 2.61 (extra_specs), 2.75 (swap 0); a generated UUID id', async () => {
  const made = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  assert.is(made.status, 200);
  assert.equal(made.json.flavor, {
    id: '1',
    name: 'm1.tiny',
    ram: 512,
    disk: 1,
    swap: '',
    'OS-FLV-EXT-DATA:ephemeral': 0,
    'OS-FLV-DISABLED:disabled': false,
    vcpus: 1,
    'os-flavor-access:is_public': true,
    rxtx_factor: 1,
    links: [{ rel: 'self', href: `${c.url}/v2.1/flavors/1` }, { rel: 'bookmark', href: `${c.url}/flavors/1` }],
  });
  const auto = await c.request('POST', '/v2.1/flavors', { token: admin, version: '2.75', body: { flavor: { name: 'm1.small', ram: '2048', vcpus: 1, disk: 20, description: 'small one' } } });
  assert.is(auto.status, 200);
  assert.match(auto.json.flavor.id, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  assert.is(auto.json.flavor.swap, 0);
  assert.is(auto.json.flavor.ram, 2048);
  assert.is(auto.json.flavor.description, 'small one');
  assert.equal(auto.json.flavor.extra_specs, {});
});

test('create: duplicate name and id are 409 with Nova\'s words; bad fields are 400 with jsonschema\'s', async () => {
  const dupName = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '99', ram: 1, vcpus: 1, disk: 0 } } });
  assert.equal(dupName.json, { conflictingRequest: { code: 409, message: 'Flavor with name m1.tiny already exists.' } });
  const dupId = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'other', id: '1', ram: 1, vcpus: 1, disk: 0 } } });
  assert.equal(dupId.json, { conflictingRequest: { code: 409, message: 'Flavor with ID 1 already exists.' } });
  // The losing create left no name claim behind: the name is free.
  assert.is((await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'other', id: '2', ram: 1, vcpus: 1, disk: 0 } } })).status, 200);
  const missing = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', vcpus: 1, disk: 0 } } });
  assert.equal(missing.json.badRequest.message, "Invalid input for field/attribute flavor. Value: {'name': 'x', 'vcpus': 1, 'disk': 0}. 'ram' is a required property");
  const zero = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', ram: 0, vcpus: 1, disk: 0 } } });
  assert.equal(zero.json.badRequest.message, 'Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1');
  const word = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', ram: 'abc', vcpus: 1, disk: 0 } } });
  assert.equal(word.json.badRequest.message, "Invalid input for field/attribute ram. Value: abc. 'abc' does not match '^[0-9]*$'");
  const none = await c.request('POST', '/v2.1/flavors', { token: admin, body: {} });
  assert.equal(none.json.badRequest.message, "'flavor' is a required property");
});

test('policy: a member may list and show but not create or delete ("Policy doesn\'t allow ...")', async () => {
  const denied = await c.request('POST', '/v2.1/flavors', { token: demo, body: { flavor: { name: 'mine', ram: 1, vcpus: 1, disk: 0 } } });
  assert.equal(denied.json, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed." } });
  assert.is((await c.request('DELETE', '/v2.1/flavors/1', { token: demo })).status, 403);
  assert.is((await c.request('GET', '/v2.1/flavors/1', { token: demo })).json.flavor.name, 'm1.tiny');
});

test('list: index shows id, name, links; detail the rest; sorted by flavorid; limit/marker pages with flavors_links', async () => {
  const index = await c.request('GET', '/v2.1/flavors', { token: demo });
  assert.equal(Object.keys(index.json.flavors[0]).sort(), ['id', 'links', 'name']);
  const detail = await c.request('GET', '/v2.1/flavors/detail?sort_key=memory_mb&sort_dir=desc', { token: demo });
  assert.equal(detail.json.flavors.map((f: { ram: number }) => f.ram), [2048, 512, 1]);
  const page = await c.request('GET', '/v2.1/flavors?limit=1', { token: demo });
  assert.is(page.json.flavors.length, 1);
  assert.is(page.json.flavors_links[0].href, `${c.url}/v2.1/flavors?limit=1&marker=${page.json.flavors[0].id}`);
  const next = await c.request('GET', `/v2.1/flavors?limit=1&marker=${page.json.flavors[0].id}`, { token: demo });
  assert.is.not(next.json.flavors[0].id, page.json.flavors[0].id);
  const badMarker = await c.request('GET', '/v2.1/flavors?marker=nope', { token: demo });
  assert.equal(badMarker.json.badRequest.message, 'marker [nope] not found');
  const minRam = await c.request('GET', '/v2.1/flavors/detail?minRam=600', { token: demo });
  assert.equal(minRam.json.flavors.map((f: { name: string }) => f.name), ['m1.small']);
});

test('private flavors: hidden from other projects until access is added; the access list; public flavors have none', async () => {
  const made = await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'private', id: 'p1', ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } } });
  assert.is(made.json.flavor['os-flavor-access:is_public'], false);
  assert.is((await c.request('GET', '/v2.1/flavors/p1', { token: demo })).status, 404);
  assert.not.ok((await c.request('GET', '/v2.1/flavors', { token: demo })).json.flavors.some((f: { id: string }) => f.id === 'p1'));
  const added = await c.request('POST', '/v2.1/flavors/p1/action', { token: admin, body: { addTenantAccess: { tenant: demoProject } } });
  assert.equal(added.json, { flavor_access: [{ flavor_id: 'p1', tenant_id: demoProject }] });
  const again = await c.request('POST', '/v2.1/flavors/p1/action', { token: admin, body: { addTenantAccess: { tenant: demoProject } } });
  assert.equal(again.json.conflictingRequest.message, `Flavor access already exists for flavor p1 and project ${demoProject} combination.`);
  assert.is((await c.request('GET', '/v2.1/flavors/p1', { token: demo })).status, 200);
  const publicList = await c.request('GET', '/v2.1/flavors/1/os-flavor-access', { token: admin });
  assert.equal(publicList.json.itemNotFound.message, 'Access list not available for public flavors.');
  await c.request('POST', '/v2.1/flavors/p1/action', { token: admin, body: { removeTenantAccess: { tenant: demoProject } } });
  assert.is((await c.request('GET', '/v2.1/flavors/p1', { token: demo })).status, 404);
});

test('extra specs: set, show one, update, delete; missing key 404; members read, only admins write', async () => {
  const set = await c.request('POST', '/v2.1/flavors/1/os-extra_specs', { token: admin, body: { extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:disk_read_bytes_sec': 10240, 'hw:mem_secure': true } } });
  assert.equal(set.json, { extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:disk_read_bytes_sec': '10240', 'hw:mem_secure': 'True' } });
  assert.equal((await c.request('GET', '/v2.1/flavors/1/os-extra_specs/hw:cpu_policy', { token: demo })).json, { 'hw:cpu_policy': 'dedicated' });
  const mismatch = await c.request('PUT', '/v2.1/flavors/1/os-extra_specs/hw:cpu_policy', { token: admin, body: { other: 'x' } });
  assert.equal(mismatch.json.badRequest.message, 'Request body and URI mismatch');
  assert.is((await c.request('PUT', '/v2.1/flavors/1/os-extra_specs/hw:cpu_policy', { token: admin, body: { 'hw:cpu_policy': 'shared' } })).status, 200);
  assert.is((await c.request('DELETE', '/v2.1/flavors/1/os-extra_specs/hw:mem_secure', { token: admin })).status, 202);
  const gone = await c.request('GET', '/v2.1/flavors/1/os-extra_specs/hw:mem_secure', { token: admin });
  assert.equal(gone.json.itemNotFound.message, 'Flavor 1 has no extra specs with key hw:mem_secure.');
  assert.equal((await c.request('GET', '/v2.1/flavors/1', { token: demo, version: '2.61' })).json.flavor.extra_specs, { 'hw:cpu_policy': 'shared', 'quota:disk_read_bytes_sec': '10240' });
  assert.is((await c.request('POST', '/v2.1/flavors/1/os-extra_specs', { token: demo, body: { extra_specs: { a: 'b' } } })).status, 403);
});

test('description update (2.55 only) and delete: 202, then 404 and the name is free again', async () => {
  assert.is((await c.request('PUT', '/v2.1/flavors/2', { token: admin, body: { flavor: { description: 'd' } } })).status, 405);
  const updated = await c.request('PUT', '/v2.1/flavors/2', { token: admin, version: '2.55', body: { flavor: { description: 'new words' } } });
  assert.is(updated.json.flavor.description, 'new words');
  assert.is((await c.request('DELETE', '/v2.1/flavors/2', { token: admin })).status, 202);
  assert.equal((await c.request('GET', '/v2.1/flavors/2', { token: admin })).json, { itemNotFound: { code: 404, message: 'Flavor 2 could not be found.' } });
  assert.is((await c.request('DELETE', '/v2.1/flavors/2', { token: admin })).status, 404);
  assert.is((await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'other', ram: 1, vcpus: 1, disk: 0 } } })).status, 200);
});

test.run();
