import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

/**
 * Conditional writes the proxy offers system accounts (docs/decisions.md, "Records in the
 * cluster"): `If-None-Match: *` creates only, `If-Match` on PUT and DELETE replaces or removes
 * only the version the writer read. Other accounts keep Swift's behaviour (If-Match ignored).
 */
let c: TestCluster;
let system: string;
test.before(async () => {
  c = await startCluster({ users: { 'user_.records_svc': 'svcpass .admin' } });
  system = await c.token('.records:svc', 'svcpass');
  assert.is((await c.request('PUT', '/v1/AUTH_.records/things', { 'X-Auth-Token': system })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/things')).status, 201);
});
test.after(async () => {
  await c.close();
});

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const put = (path: string, body: string, headers: Record<string, string> = {}) => c.request('PUT', path, { 'X-Auth-Token': system, 'Content-Type': 'application/json', ...headers }, body);

test('only the owner reaches a system account; reseller admins do not', async () => {
  assert.is((await c.request('GET', '/v1/AUTH_.records/things', { 'X-Auth-Token': await c.token('admin:admin') })).status, 403);
  assert.is((await c.request('GET', '/v1/AUTH_.records/things')).status, 403);
  assert.is((await c.request('GET', '/v1/AUTH_.records/things', { 'X-Auth-Token': system })).status, 204);
});

test('If-None-Match: * creates once; the second create is 412 and leaves the first', async () => {
  assert.is((await put('/v1/AUTH_.records/things/a', '{"v":1}', { 'If-None-Match': '*' })).status, 201);
  assert.is((await put('/v1/AUTH_.records/things/a', '{"v":2}', { 'If-None-Match': '*' })).status, 412);
  const got = await c.request('GET', '/v1/AUTH_.records/things/a', { 'X-Auth-Token': system });
  assert.is(got.body.toString(), '{"v":1}');
});

test('If-Match on PUT replaces only the version read; a stale ETag is 412', async () => {
  await put('/v1/AUTH_.records/things/b', '{"v":1}');
  assert.is((await put('/v1/AUTH_.records/things/b', '{"v":2}', { 'If-Match': md5('{"v":1}') })).status, 201);
  assert.is((await put('/v1/AUTH_.records/things/b', '{"v":3}', { 'If-Match': md5('{"v":1}') })).status, 412);
  assert.is((await put('/v1/AUTH_.records/things/missing', '{"v":1}', { 'If-Match': '*' })).status, 412);
  assert.is((await c.request('GET', '/v1/AUTH_.records/things/missing', { 'X-Auth-Token': system })).status, 404);
  const got = await c.request('GET', '/v1/AUTH_.records/things/b', { 'X-Auth-Token': system, 'X-Newest': 'true' });
  assert.is(got.body.toString(), '{"v":2}');
});

test('If-Match on DELETE removes only the version read', async () => {
  await put('/v1/AUTH_.records/things/c', '{"v":1}');
  assert.is((await c.request('DELETE', '/v1/AUTH_.records/things/c', { 'X-Auth-Token': system, 'If-Match': md5('other') })).status, 412);
  assert.is((await c.request('HEAD', '/v1/AUTH_.records/things/c', { 'X-Auth-Token': system })).status, 200);
  assert.is((await c.request('DELETE', '/v1/AUTH_.records/things/c', { 'X-Auth-Token': system, 'If-Match': `"${md5('{"v":1}')}"` })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_.records/things/c', { 'X-Auth-Token': system })).status, 404);
});

test('concurrent compare-and-swaps from one version: exactly one wins, and every replica holds its version', async () => {
  for (let round = 0; round < 5; round++) {
    const name = `/v1/AUTH_.records/things/d${round}`;
    await put(name, '{"n":0}');
    const from = md5('{"n":0}');
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => put(name, `{"n":${n}}`, { 'If-Match': from })));
    const statuses = results.map((r) => r.status);
    assert.is(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
    assert.ok(statuses.every((s) => s === 201 || s === 412), statuses.join(','));
    const winner = `{"n":${statuses.indexOf(201) + 1}}`;
    // Each replica, not just the newest: none kept a losing writer's version.
    const part = c.rings.object.getPart('AUTH_.records', 'things', `d${round}`);
    for (const node of c.rings.object.getPartNodes(part)) {
      const res = await httpRequest(node.port, 'GET', `/${node.device}/${part}/AUTH_.records/things/d${round}`);
      assert.is(res.body.toString(), winner);
    }
  }
});

test('other accounts: If-Match on PUT and DELETE is ignored, as in Swift', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/things/x', { 'Content-Type': 'text/plain' }, 'one')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/things/x', { 'Content-Type': 'text/plain', 'If-Match': md5('nope') }, 'two')).status, 201);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/things/x', { 'If-Match': md5('nope') })).status, 204);
});

test('a client cannot send X-Backend-If-Match itself', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/things/y', { 'Content-Type': 'text/plain', 'X-Backend-If-Match': md5('nope') }, 'one')).status, 201);
});

test.run();
