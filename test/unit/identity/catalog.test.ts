import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** Services, endpoints and regions, and the catalog tokens carry. */
let id: TestIdentity;
let admin: string;
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
});
test.after(() => id.close());

test('bootstrap\'s catalog: identity and object-store, three interfaces each, in RegionOne', async () => {
  const services = (await id.request('GET', '/v3/services', { token: admin })).json.services;
  assert.equal(services.map((s: { type: string; name: string }) => `${s.type}:${s.name}`).sort(), ['identity:keystone', 'object-store:swift']);
  const endpoints = (await id.request('GET', '/v3/endpoints', { token: admin })).json.endpoints;
  assert.is(endpoints.length, 6);
  assert.ok(endpoints.every((e: { region_id: string; region: string }) => e.region_id === 'RegionOne' && e.region === 'RegionOne'));
  assert.equal((await id.request('GET', '/v3/regions', { token: admin })).json.regions.map((r: { id: string }) => r.id), ['RegionOne']);
});

test('a service with endpoints appears in new tokens; an endpoint needing a project is left out of unscoped catalogs', async () => {
  const svc = await id.request('POST', '/v3/services', { token: admin, body: { service: { name: 'glance', type: 'image', description: 'img' } } });
  assert.is(svc.status, 201);
  assert.equal({ ...svc.json.service, id: 'x', links: {} }, { id: 'x', type: 'image', enabled: true, name: 'glance', description: 'img', links: {} });
  const ep = await id.request('POST', '/v3/endpoints', { token: admin, body: { endpoint: { service_id: svc.json.service.id, interface: 'public', url: 'http://img:9292/$(project_id)s', region_id: 'RegionOne' } } });
  assert.is(ep.status, 201);
  const bad = await id.request('POST', '/v3/endpoints', { token: admin, body: { endpoint: { service_id: svc.json.service.id, interface: 'bogus', url: 'http://x' } } });
  assert.equal(bad.json.error.message, "Invalid input for field 'interface': 'bogus' is not one of ['admin', 'internal', 'public']");
  assert.is((await id.request('POST', '/v3/endpoints', { token: admin, body: { endpoint: { service_id: 'nope', interface: 'public', url: 'http://x' } } })).status, 400);
  const project = (await id.request('GET', '/v3/auth/catalog', { token: admin })).json.catalog.find((s: { type: string }) => s.type === 'image');
  assert.match(project.endpoints[0].url, /^http:\/\/img:9292\/[0-9a-f]{32}$/);
  const domainToken = await id.token({ scope: { domain: { id: 'default' } } }).catch(() => undefined);
  if (domainToken) {
    const image = (await id.request('GET', '/v3/auth/catalog', { token: domainToken })).json.catalog.find((s: { type: string }) => s.type === 'image');
    assert.equal(image?.endpoints ?? [], []);
  }
  assert.is((await id.request('PATCH', `/v3/endpoints/${ep.json.endpoint.id}`, { token: admin, body: { endpoint: { enabled: false } } })).json.endpoint.enabled, false);
  assert.is((await id.request('DELETE', `/v3/services/${svc.json.service.id}`, { token: admin })).status, 204);
  assert.is((await id.request('GET', `/v3/endpoints/${ep.json.endpoint.id}`, { token: admin })).status, 404, "a service's endpoints go with it");
});

test('regions: create with an id, 409 on it again, parent must exist; any token may read them', async () => {
  const made = await id.request('POST', '/v3/regions', { token: admin, body: { region: { id: 'RegionTwo', description: 'two' } } });
  assert.is(made.status, 201);
  assert.equal({ ...made.json.region, links: {} }, { id: 'RegionTwo', description: 'two', parent_region_id: null, links: {} });
  assert.equal((await id.request('POST', '/v3/regions', { token: admin, body: { region: { id: 'RegionTwo' } } })).json.error.message, 'Conflict occurred attempting to store region - Duplicate ID, RegionTwo..');
  assert.is((await id.request('POST', '/v3/regions', { token: admin, body: { region: { parent_region_id: 'nope' } } })).status, 400);
  const demo = await id.token({ user: 'demo' });
  assert.is((await id.request('GET', '/v3/regions/RegionTwo', { token: demo })).status, 200);
  assert.is((await id.request('GET', '/v3/services', { token: demo })).status, 403);
});

test.run();
