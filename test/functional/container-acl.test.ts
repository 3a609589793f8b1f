import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

let c: TestCluster;
test.before(async () => {
  // Container info cached as long as Swift's default: a grant must not wait for it.
  c = await startCluster({ proxy: { recheck_container_existence: 60 } });
});
test.after(async () => {
  await c.close();
});

test('a referrer ACL with no host is a 400 with Swift\'s message, and the container is not created', async () => {
  const res = await c.request('PUT', '/v1/AUTH_test/nohost', { 'X-Container-Read': '.r:' });
  assert.is(res.status, 400);
  assert.is(res.body.toString(), "No host/domain value after referrer designation in ACL: '.r:'");
  assert.is((await c.request('HEAD', '/v1/AUTH_test/nohost')).status, 404);
  assert.is((await c.request('PUT', '/v1/AUTH_test/nohost', { 'X-Container-Read': '.r:-' })).status, 400);
});

test('referrers in a write ACL and unknown designators are 400s; a POST keeps the old ACL', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/acl', { 'X-Container-Read': 'test:tester3' })).status, 201);
  const write = await c.request('POST', '/v1/AUTH_test/acl', { 'X-Container-Write': '.r:*' });
  assert.is(write.status, 400);
  assert.is(write.body.toString(), "Referrers not allowed in write ACL: '.r:*'");
  assert.is((await c.request('POST', '/v1/AUTH_test/acl', { 'X-Container-Read': '.rlistings:yes' })).status, 400);
  assert.is((await c.request('POST', '/v1/AUTH_test/acl', { 'X-Container-Read': '.r:' })).status, 400);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/acl')).headers['x-container-read'], 'test:tester3');
});

test('an ACL is stored cleaned, as Swift stores it, and still grants what it said', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test/acl', { 'X-Container-Read': ' .referrer : * , .rlistings,, test:tester3 ' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/acl')).headers['x-container-read'], '.r:*,.rlistings,test:tester3');
  assert.is((await c.request('GET', '/v1/AUTH_test/acl', { 'X-Auth-Token': '' })).status, 204, 'anonymous listing by .r:* and .rlistings');
});

test('regression: a write ACL granted through one proxy worker admits writes at once on another, whose cache predates it', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/shared')).status, 201);
  const other = await c.anotherProxy();
  try {
    const token = await c.token('test2:tester2');
    const put = async (): Promise<number> => (await httpRequest(other.port, 'PUT', '/v1/AUTH_test/shared/o', { 'X-Auth-Token': token }, 'x')).status;
    assert.is(await put(), 403, 'the other worker has now cached the container');
    assert.is((await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Write': 'test2:tester2' })).status, 204);
    assert.is(await put(), 201);
  } finally {
    await other.close();
  }
});

test.run();
