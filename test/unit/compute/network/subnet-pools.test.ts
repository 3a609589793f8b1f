import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork, type TestNetwork } from '../../../helpers/network.ts';

/** Address scopes, subnet pools and subnets allocated from them, as Neutron's API answers. */
let net: TestNetwork;
let admin: string;
let demo: string;
test.before(async () => {
  net = await startNetwork();
  admin = await net.identity.token();
  demo = await net.identity.token({ user: 'demo' });
});
test.after(() => net.close());

const as = (token: string) => ({
  get: (path: string) => net.request('GET', path, { token }),
  post: (path: string, body: unknown) => net.request('POST', path, { token, body }),
  put: (path: string, body: unknown) => net.request('PUT', path, { token, body }),
  del: (path: string) => net.request('DELETE', path, { token }),
});

const neutronError = (type: string, message: string) => ({ NeutronError: { type, message, detail: '' } });

test('extensions: address-scope, subnet_allocation, default-subnetpools, subnetpool-prefix-ops', async () => {
  const ext = (await as(demo).get('/v2.0/extensions')).json.extensions as { alias: string; name: string }[];
  for (const alias of ['address-scope', 'subnet_allocation', 'default-subnetpools', 'subnetpool-prefix-ops']) assert.ok(ext.some((e) => e.alias === alias), alias);
  assert.is((await as(demo).get('/v2.0/extensions/default-subnetpools')).json.extension.name, 'Default Subnetpools');
});

test('address scopes: create, list, show, update, delete; shared is for admins and cannot be undone; bad input', async () => {
  const made = await as(demo).post('/v2.0/address-scopes', { address_scope: { name: 's1', ip_version: '4' } });
  assert.is(made.status, 201);
  const s = made.json.address_scope;
  assert.equal([s.name, s.ip_version, s.shared, s.project_id === s.tenant_id], ['s1', 4, false, true]);
  assert.is((await as(demo).get(`/v2.0/address-scopes/${s.id}`)).json.address_scope.id, s.id);
  assert.is((await as(demo).put(`/v2.0/address-scopes/${s.id}`, { address_scope: { name: 's1b' } })).json.address_scope.name, 's1b');
  assert.equal((await as(demo).post('/v2.0/address-scopes', { address_scope: { name: 'x', ip_version: 5 } })).json, neutronError('HTTPBadRequest', 'Invalid input for ip_version. Reason: 5 is not in [4, 6].'));
  assert.equal((await as(demo).post('/v2.0/address-scopes', { address_scope: { name: 'x' } })).json, neutronError('HTTPBadRequest', "Failed to parse request. Required attribute 'ip_version' not specified"));
  const sharedByDemo = await as(demo).post('/v2.0/address-scopes', { address_scope: { name: 'x', ip_version: 4, shared: true } });
  assert.is(sharedByDemo.status, 403);
  assert.equal(sharedByDemo.json, neutronError('PolicyNotAuthorized', '(rule:create_address_scope and rule:create_address_scope:shared) is disallowed by policy'));
  assert.is((await as(demo).put(`/v2.0/address-scopes/${s.id}`, { address_scope: { shared: true } })).status, 403);

  const shared = (await as(admin).post('/v2.0/address-scopes', { address_scope: { name: 'pub', ip_version: 6, shared: true } })).json.address_scope;
  assert.ok((await as(demo).get('/v2.0/address-scopes?shared=True')).json.address_scopes.some((x: { id: string }) => x.id === shared.id), 'a shared scope is listed for all');
  assert.equal((await as(demo).put(`/v2.0/address-scopes/${shared.id}`, { address_scope: { name: 'mine' } })).json, neutronError('PolicyNotAuthorized', 'rule:update_address_scope is disallowed by policy'));
  const unshare = await as(admin).put(`/v2.0/address-scopes/${shared.id}`, { address_scope: { shared: false } });
  assert.is(unshare.status, 400);
  assert.equal(unshare.json, neutronError('AddressScopeUpdateError', `Unable to update address scope ${shared.id} : Shared address scope can't be unshared.`));
  assert.is((await as(admin).get(`/v2.0/address-scopes/${shared.id}`)).json.address_scope.shared, true, 'still shared');

  const privateOfAdmin = (await as(admin).post('/v2.0/address-scopes', { address_scope: { name: 'priv', ip_version: 4 } })).json.address_scope;
  assert.equal((await as(demo).get(`/v2.0/address-scopes/${privateOfAdmin.id}`)).json, neutronError('AddressScopeNotFound', `Address scope ${privateOfAdmin.id} could not be found.`));
  assert.is((await as(demo).del(`/v2.0/address-scopes/${s.id}`)).status, 204);
  assert.is((await as(demo).get(`/v2.0/address-scopes/${s.id}`)).status, 404);
  for (const id of [shared.id, privateOfAdmin.id]) assert.is((await as(admin).del(`/v2.0/address-scopes/${id}`)).status, 204);
});

test('subnet pools: create with defaults, show, list filters, update, delete; bad input refused and nothing made', async () => {
  const made = await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'p1', prefixes: ['10.20.1.0/24', '10.20.0.0/24'], description: 'd' } });
  assert.is(made.status, 201, JSON.stringify(made.json));
  const p = made.json.subnetpool;
  assert.equal(
    [p.name, p.prefixes, p.ip_version, p.min_prefixlen, p.max_prefixlen, p.default_prefixlen, p.default_quota, p.is_default, p.shared, p.address_scope_id, p.description, p.revision_number],
    ['p1', ['10.20.0.0/23'], 4, 8, 32, 8, null, false, false, null, 'd', 0],
  );
  const before = (await as(demo).get('/v2.0/subnetpools')).json.subnetpools.length;
  const refused = async (body: unknown, status: number, error: unknown) => {
    const r = await as(demo).post('/v2.0/subnetpools', { subnetpool: body });
    assert.is(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json, error);
  };
  await refused({ name: 'x', prefixes: ['10.0.0.0/8', '2001:db8::/32'] }, 400, neutronError('PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.'));
  await refused({ name: 'x', prefixes: ['10.0.0.0/8'], min_prefixlen: 24, max_prefixlen: 16 }, 400, neutronError('IllegalSubnetPoolPrefixBounds', 'Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16.'));
  await refused({ name: 'x', prefixes: ['10.0.0.0/33'] }, 400, neutronError('HTTPBadRequest', "Invalid input for prefixes. Reason: '10.0.0.0/33' is not a valid IP subnet."));
  await refused({ name: 'x', prefixes: [] }, 400, neutronError('EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.'));
  await refused({ name: 'x', prefixes: ['10.0.0.0/8'], default_quota: -1 }, 400, neutronError('HTTPBadRequest', "Invalid input for default_quota. Reason: '-1' should be non-negative."));
  await refused({ prefixes: ['10.0.0.0/8'] }, 400, neutronError('HTTPBadRequest', "Failed to parse request. Required attribute 'name' not specified"));
  await refused({ name: 'x', prefixes: ['10.0.0.0/8'], shared: true }, 403, neutronError('PolicyNotAuthorized', '(rule:create_subnetpool and rule:create_subnetpool:shared) is disallowed by policy'));
  await refused({ name: 'x', prefixes: ['10.0.0.0/8'], is_default: true }, 403, neutronError('PolicyNotAuthorized', '(rule:create_subnetpool and rule:create_subnetpool:is_default) is disallowed by policy'));
  assert.is((await as(demo).get('/v2.0/subnetpools')).json.subnetpools.length, before, 'nothing made');

  const set = await as(demo).put(`/v2.0/subnetpools/${p.id}`, { subnetpool: { name: 'p1b', prefixes: ['10.20.0.0/23', '10.110.0.0/16'], min_prefixlen: 16, max_prefixlen: 28, default_prefixlen: 24, default_quota: 20 } });
  assert.is(set.status, 200, JSON.stringify(set.json));
  const u = set.json.subnetpool;
  assert.equal([u.name, u.prefixes, u.min_prefixlen, u.max_prefixlen, u.default_prefixlen, u.default_quota, u.revision_number], ['p1b', ['10.20.0.0/23', '10.110.0.0/16'], 16, 28, 24, 20, 1]);
  const shrink = await as(demo).put(`/v2.0/subnetpools/${p.id}`, { subnetpool: { prefixes: ['10.110.0.0/16'] } });
  assert.equal(shrink.json, neutronError('IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.'));
  assert.equal((await as(demo).put(`/v2.0/subnetpools/${p.id}`, { subnetpool: { shared: true } })).json, neutronError('HTTPBadRequest', 'Cannot update read-only attribute shared'));
  assert.equal((await as(demo).get(`/v2.0/subnetpools?name=p1b`)).json.subnetpools.map((x: { id: string }) => x.id), [p.id]);
  assert.is((await as(demo).del(`/v2.0/subnetpools/${p.id}`)).status, 204);
  assert.equal((await as(demo).get(`/v2.0/subnetpools/${p.id}`)).json, neutronError('SubnetPoolNotFound', `Subnet pool ${p.id} could not be found.`));
});

test('one default pool per ip_version; shared pools seen and used by all, changed by their owner only', async () => {
  const d4 = (await as(admin).post('/v2.0/subnetpools', { subnetpool: { name: 'd4', prefixes: ['172.30.0.0/16'], is_default: true, shared: true, default_prefixlen: 26 } })).json.subnetpool;
  const second = await as(admin).post('/v2.0/subnetpools', { subnetpool: { name: 'd4b', prefixes: ['172.31.0.0/16'], is_default: true } });
  assert.is(second.status, 400);
  assert.equal(second.json, neutronError('InvalidInput', 'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.'));
  const v6 = await as(admin).post('/v2.0/subnetpools', { subnetpool: { name: 'd6', prefixes: ['2001:db8:100::/48'], is_default: true } });
  assert.is(v6.status, 201, 'a default of the other ip_version');
  assert.is((await as(demo).get(`/v2.0/subnetpools/${d4.id}`)).status, 200);
  assert.equal((await as(demo).put(`/v2.0/subnetpools/${d4.id}`, { subnetpool: { name: 'mine' } })).json, neutronError('PolicyNotAuthorized', 'rule:update_subnetpool is disallowed by policy'));
  assert.is((await as(demo).get(`/v2.0/subnetpools/${v6.json.subnetpool.id}`)).status, 404, 'an unshared pool is hidden');

  const n = (await as(demo).post('/v2.0/networks', { network: { name: 'n-default' } })).json.network;
  const sub = await as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, use_default_subnetpool: true } });
  assert.is(sub.status, 201, JSON.stringify(sub.json));
  assert.equal([sub.json.subnet.cidr, sub.json.subnet.subnetpool_id, sub.json.subnet.gateway_ip], ['172.30.0.0/26', d4.id, '172.30.0.1']);
  const noV6 = await as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 6, use_default_subnetpool: true } });
  assert.equal(noV6.json, neutronError('BadRequest', 'Bad subnets request: No default subnetpool found for IPv6.'), "the v6 default is not the caller's to use");
  assert.is((await as(demo).del(`/v2.0/subnets/${sub.json.subnet.id}`)).status, 204);
  for (const id of [d4.id, v6.json.subnetpool.id]) assert.is((await as(admin).del(`/v2.0/subnetpools/${id}`)).status, 204);
  assert.is((await as(demo).del(`/v2.0/networks/${n.id}`)).status, 204);
});

test('subnets from a pool: next free prefix of prefixlen or the default, an explicit cidr inside, refusals; freed on delete; pool in use not deleted', async () => {
  const pool = (await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'alloc', prefixes: ['10.50.0.0/24'], default_prefixlen: 26, min_prefixlen: 24, max_prefixlen: 28 } })).json.subnetpool;
  const n = (await as(demo).post('/v2.0/networks', { network: { name: 'n-pool' } })).json.network;
  const sub = (body: Record<string, unknown>) => as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: pool.id, ...body } });
  const a = await sub({ prefixlen: 26 });
  assert.is(a.status, 201, JSON.stringify(a.json));
  assert.equal([a.json.subnet.cidr, a.json.subnet.subnetpool_id, a.json.subnet.allocation_pools], ['10.50.0.0/26', pool.id, [{ start: '10.50.0.2', end: '10.50.0.62' }]]);
  assert.is((await sub({})).json.subnet.cidr, '10.50.0.64/26', "the pool's default_prefixlen");
  const explicit = await sub({ cidr: '10.50.0.192/27' });
  assert.is(explicit.json.subnet.cidr, '10.50.0.192/27');
  const count = async () => (await as(demo).get(`/v2.0/subnets?network_id=${n.id}`)).json.subnets.length;
  const refused = async (body: Record<string, unknown>, status: number, error: unknown) => {
    const r = await sub(body);
    assert.is(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json, error);
  };
  await refused({ cidr: '10.50.0.0/26' }, 500, neutronError('SubnetAllocationError', 'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.'));
  await refused({ prefixlen: 25 }, 500, neutronError('SubnetAllocationError', 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /25.'));
  await refused({ prefixlen: 29 }, 400, neutronError('MaxPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 29, maximum allowed prefix is 28.'));
  await refused({ prefixlen: 20 }, 400, neutronError('MinPrefixSubnetAllocationError', 'Unable to allocate subnet with prefix length 20, minimum allowed prefix is 24.'));
  await refused({ cidr: '10.50.0.128/27', prefixlen: 27 }, 400, neutronError('BadRequest', 'Bad subnets request: cidr and prefixlen must not be supplied together.'));
  await refused({ ip_version: 6 }, 400, neutronError('BadRequest', 'Bad subnets request: Cannot allocate IPv6 subnet from IPv4 subnet pool.'));
  await refused({ use_default_subnetpool: true }, 400, neutronError('BadRequest', 'Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.'));
  // Two periods, as Neutron's (its reason ends with one and BadRequest adds another).
  await refused({ allocation_pools: [{ start: '10.50.0.130', end: '10.50.0.140' }] }, 400, neutronError('BadRequest', 'Bad subnets request: allocation_pools allowed only for specific subnet requests..'));
  assert.is(await count(), 3, 'nothing made by the refusals');
  const noCidr = await as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4 } });
  assert.equal(noCidr.json, neutronError('BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.'));
  const outside = await as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, cidr: '192.168.77.0/24' } });
  assert.equal(outside.json, neutronError('NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.'));

  const inUse = await as(demo).del(`/v2.0/subnetpools/${pool.id}`);
  assert.is(inUse.status, 400);
  assert.equal(inUse.json, neutronError('SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.'));
  const removeUsed = await as(demo).put(`/v2.0/subnetpools/${pool.id}/remove_prefixes`, { prefixes: ['10.50.0.0/26'] });
  assert.equal(removeUsed.json, neutronError('IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet.'));

  assert.is((await as(demo).del(`/v2.0/subnets/${a.json.subnet.id}`)).status, 204);
  assert.is((await sub({ prefixlen: 26 })).json.subnet.cidr, '10.50.0.0/26', 'the deleted subnet freed its prefix');
  for (const s of (await as(demo).get(`/v2.0/subnets?network_id=${n.id}`)).json.subnets) assert.is((await as(demo).del(`/v2.0/subnets/${s.id}`)).status, 204);
  assert.is((await as(demo).del(`/v2.0/subnetpools/${pool.id}`)).status, 204);
  assert.is((await as(demo).del(`/v2.0/networks/${n.id}`)).status, 204);
});

test('add_prefixes and remove_prefixes', async () => {
  const pool = (await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'ops', prefixes: ['10.60.0.0/24'] } })).json.subnetpool;
  const added = await as(demo).put(`/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['10.60.1.0/24', '10.70.0.0/16'] });
  assert.is(added.status, 200);
  assert.equal(added.json, { prefixes: ['10.60.0.0/23', '10.70.0.0/16'] });
  const removed = await as(demo).put(`/v2.0/subnetpools/${pool.id}/remove_prefixes`, { prefixes: ['10.60.1.0/24'] });
  assert.equal(removed.json, { prefixes: ['10.60.0.0/24', '10.70.0.0/16'] });
  assert.equal((await as(demo).get(`/v2.0/subnetpools/${pool.id}`)).json.subnetpool.prefixes, ['10.60.0.0/24', '10.70.0.0/16']);
  assert.equal((await as(demo).put(`/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: [] })).json, neutronError('HTTPBadRequest', 'Request body contains invalid data'));
  assert.equal((await as(demo).put(`/v2.0/subnetpools/${pool.id}/add_prefixes`, { prefixes: ['2001:db8::/64'] })).json, neutronError('PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.'));
  assert.is((await as(demo).del(`/v2.0/subnetpools/${pool.id}`)).status, 204);
});

test('pools in an address scope: same ip_version, prefixes unique within the scope; a used scope is not deleted', async () => {
  const scope = (await as(demo).post('/v2.0/address-scopes', { address_scope: { name: 'sc', ip_version: 4 } })).json.address_scope;
  const p1 = await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'sp1', prefixes: ['10.80.0.0/16'], address_scope_id: scope.id } });
  assert.is(p1.status, 201);
  assert.is(p1.json.subnetpool.address_scope_id, scope.id);
  const overlap = await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'sp2', prefixes: ['10.80.128.0/17'], address_scope_id: scope.id } });
  assert.is(overlap.status, 409);
  assert.equal(overlap.json, neutronError('AddressScopePrefixConflict', 'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.'));
  const v6 = await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'sp6', prefixes: ['2001:db8:1::/48'], address_scope_id: scope.id } });
  assert.is(v6.status, 400);
  assert.is(v6.json.NeutronError.type, 'IllegalSubnetPoolIpVersionAssociationToAddressScope');
  assert.match(v6.json.NeutronError.message, new RegExp(`^Illegal subnetpool association: subnetpool [0-9a-f-]{36} cannot associate with address scope ${scope.id} because subnetpool ip_version is not 4\\.$`));
  const n = (await as(demo).post('/v2.0/networks', { network: { name: 'n-scoped' } })).json.network;
  assert.is((await as(demo).get(`/v2.0/networks/${n.id}`)).json.network.ipv4_address_scope, null);
  const sub = (await as(demo).post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4, subnetpool_id: p1.json.subnetpool.id, prefixlen: 24 } })).json.subnet;
  const shown = (await as(demo).get(`/v2.0/networks/${n.id}`)).json.network;
  assert.equal([shown.ipv4_address_scope, shown.ipv6_address_scope], [scope.id, null], "the network is in its pooled subnet's scope");
  assert.is((await as(demo).get(`/v2.0/networks?id=${n.id}`)).json.networks[0].ipv4_address_scope, scope.id);
  assert.is((await as(demo).del(`/v2.0/subnets/${sub.id}`)).status, 204);
  assert.is((await as(demo).del(`/v2.0/networks/${n.id}`)).status, 204);
  const p2 = (await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'sp2', prefixes: ['10.81.0.0/16'] } })).json.subnetpool;
  const join = await as(demo).put(`/v2.0/subnetpools/${p2.id}/add_prefixes`, { prefixes: ['10.80.5.0/24'] });
  assert.is(join.status, 200, 'no scope: prefixes may overlap other pools');
  assert.is((await as(demo).put(`/v2.0/subnetpools/${p2.id}`, { subnetpool: { address_scope_id: scope.id } })).status, 409, 'joining the scope with an overlapping prefix');
  assert.equal((await as(demo).get(`/v2.0/subnetpools/${p2.id}`)).json.subnetpool.address_scope_id, null, 'unchanged');
  const missing = '11111111-2222-3333-4444-555555555555';
  assert.equal((await as(demo).post('/v2.0/subnetpools', { subnetpool: { name: 'x', prefixes: ['10.99.0.0/16'], address_scope_id: missing } })).json, neutronError('AddressScopeNotFound', `Address scope ${missing} could not be found.`));

  const inUse = await as(demo).del(`/v2.0/address-scopes/${scope.id}`);
  assert.is(inUse.status, 409);
  assert.equal(inUse.json, neutronError('AddressScopeInUse', `Unable to complete operation on address scope ${scope.id}. There are one or more subnet pools in use on the address scope.`));
  for (const id of [p1.json.subnetpool.id, p2.id]) assert.is((await as(demo).del(`/v2.0/subnetpools/${id}`)).status, 204);
  assert.is((await as(demo).del(`/v2.0/address-scopes/${scope.id}`)).status, 204);
});

test.run();
