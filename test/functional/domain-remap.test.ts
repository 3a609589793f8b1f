import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster({ middleware: { domain_remap: { storage_domain: ['localhost', 'example.com'], path_root: 'v1', reseller_prefixes: ['AUTH'], default_reseller_prefix: '', mangle_client_paths: false } } });
  assert.is((await c.request('PUT', '/v1/AUTH_test/site', { 'X-Container-Read': '.r:*,.rlistings', 'X-Container-Meta-Web-Listings': 'true' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/site/dir/page', {}, 'page body')).status, 201);
});
test.after(async () => {
  await c.close();
});

test('an account host takes container paths; a container host takes object paths', async () => {
  const list = await c.request('GET', '/', { Host: 'auth-test.localhost:8080' });
  assert.is(list.status, 200);
  assert.match(list.body.toString(), 'site\n');
  assert.is((await c.request('PUT', '/new', { Host: 'AUTH_test.example.com' })).status, 201);
  assert.is((await c.request('PUT', '/o', { Host: 'new.AUTH-test.localhost' }, 'via host')).status, 201);
  assert.is((await c.request('GET', '/v1/AUTH_test/new/o')).body.toString(), 'via host');
  assert.is((await c.request('GET', '/dir/page', { Host: 'site.auth_test.localhost' })).body.toString(), 'page body');
});

test('a staticweb redirect comes back in the host\'s own terms', async () => {
  const res = await c.request('GET', '/dir', { Host: 'site.AUTH_test.localhost:8080', 'X-Auth-Token': '' });
  assert.is(res.status, 301);
  assert.is(res.headers['location'], 'http://site.AUTH_test.localhost:8080/dir/');
  const listing = await c.request('GET', '/dir/', { Host: 'site.AUTH_test.localhost:8080', 'X-Auth-Token': '' });
  assert.match(listing.body.toString(), '<title>Listing of /v1/AUTH_test/site/dir/</title>');
});

test('hosts outside the storage domains, or with too many labels, are not remapped', async () => {
  assert.is((await c.request('GET', '/v1/AUTH_test/site/dir/page', { Host: 'localhost:8080' })).status, 200);
  const bad = await c.request('GET', '/', { Host: 'a.b.AUTH_test.localhost' });
  assert.is(bad.status, 400);
  assert.is(bad.body.toString(), 'Bad domain in host header');
  assert.equal(JSON.parse((await c.request('GET', '/info')).body.toString()).domain_remap, { default_reseller_prefix: null });
});

test.run();
