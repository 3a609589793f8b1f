import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** The compute API's edge: version documents, microversion negotiation, Nova's faults, tokens. */
let c: TestCompute;
let admin: string;
test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
});
test.after(() => c.close());

test('GET / and /v2.1: the version documents without a token, max 2.92 (novaclient 18), min 2.1', async () => {
  const root = await c.request('GET', '/');
  assert.is(root.status, 200);
  assert.equal(root.json.versions, [{ id: 'v2.1', status: 'CURRENT', version: '2.92', min_version: '2.1', updated: '2013-07-23T11:33:21Z', links: [{ rel: 'self', href: `${c.url}/v2.1/` }] }]);
  const v = await c.request('GET', '/v2.1/');
  assert.is(v.status, 200);
  assert.is(v.json.version.id, 'v2.1');
  assert.equal(v.json.version['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }]);
  assert.ok(v.headers['x-compute-request-id']?.startsWith('req-'));
  assert.is(v.headers['x-compute-request-id'], v.headers['x-openstack-request-id']);
});

test('microversions: none is 2.1, latest is 2.92, both headers echoed, 406 outside the range, 400 malformed', async () => {
  const none = await c.request('GET', '/v2.1/flavors', { token: admin });
  assert.is(none.status, 200);
  assert.is(none.headers['openstack-api-version'], 'compute 2.1');
  assert.is(none.headers['x-openstack-nova-api-version'], '2.1');
  assert.is(none.headers['vary'], 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  const latest = await c.request('GET', '/v2.1/flavors', { token: admin, version: 'latest' });
  assert.is(latest.headers['openstack-api-version'], 'compute 2.92');
  const legacy = await c.request('GET', '/v2.1/flavors', { token: admin, headers: { 'X-OpenStack-Nova-API-Version': '2.60' } });
  assert.is(legacy.headers['openstack-api-version'], 'compute 2.60');
  const tooNew = await c.request('GET', '/v2.1/flavors', { token: admin, version: '2.200' });
  assert.is(tooNew.status, 406);
  assert.equal(tooNew.json, { notAcceptable: { code: 406, message: 'Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.92.' } });
  const bad = await c.request('GET', '/v2.1/flavors', { token: admin, version: '2.x' });
  assert.is(bad.status, 400);
  assert.equal(bad.json, { badRequest: { code: 400, message: 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.' } });
});

test('a missing or bad token is 401; an unknown path is itemNotFound; a wrong method is 405 with Allow', async () => {
  assert.is((await c.request('GET', '/v2.1/flavors')).status, 401);
  assert.is((await c.request('GET', '/v2.1/flavors', { token: 'gAAAAAnotatoken' })).status, 401);
  const missing = await c.request('GET', '/v2.1/nothing-here', { token: admin });
  assert.equal(missing.json, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  const wrong = await c.request('PATCH', '/v2.1/flavors', { token: admin });
  assert.is(wrong.status, 405);
  assert.is(wrong.headers['allow'], 'GET, POST');
});

test('/v2.1/{project_id}/... is served like /v2.1/...; a body that is not JSON is "Malformed request body"', async () => {
  const me = await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } });
  const project = me.json.token.project.id;
  assert.is((await c.request('GET', `/v2.1/${project}/flavors`, { token: admin })).status, 200);
  const bad = await c.request('POST', '/v2.1/flavors', { token: admin, body: '{nope' });
  assert.equal(bad.json, { badRequest: { code: 400, message: 'Malformed request body' } });
});

test.run();
