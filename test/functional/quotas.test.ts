import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
let admin: string;

test.before(async () => {
  c = await startCluster();
  admin = await c.token('admin:admin');
});
test.after(async () => {
  await c.close();
});

test('/info announces container_quotas and account_quotas', async () => {
  const info = JSON.parse((await c.request('GET', '/info')).body.toString());
  assert.equal(info.container_quotas, {});
  assert.equal(info.account_quotas, {});
});

test('container quota values must be whole numbers', async () => {
  const bytes = await c.request('PUT', '/v1/AUTH_test/q0', { 'X-Container-Meta-Quota-Bytes': 'abc' });
  assert.is(bytes.status, 400);
  assert.is(bytes.body.toString(), 'Invalid bytes quota.');
  const count = await c.request('PUT', '/v1/AUTH_test/q0', { 'X-Container-Meta-Quota-Count': '-1' });
  assert.is(count.status, 400);
  assert.is(count.body.toString(), 'Invalid count quota.');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/q0')).status, 404);
  assert.is((await c.request('PUT', '/v1/AUTH_test/q0')).status, 201);
  assert.is((await c.request('POST', '/v1/AUTH_test/q0', { 'X-Container-Meta-Quota-Bytes': '1.5' })).status, 400);
  assert.is((await c.request('POST', '/v1/AUTH_test/q0', { 'X-Container-Meta-Quota-Bytes': '' })).status, 204);
});

test('an upload past the byte quota is a 413; one that fits is stored', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/qb', { 'X-Container-Meta-Quota-Bytes': '10' })).status, 201);
  const over = await c.request('PUT', '/v1/AUTH_test/qb/o', {}, '01234567890');
  assert.is(over.status, 413);
  assert.is(over.body.toString(), 'Upload exceeds quota.');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/qb/o')).status, 404);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qb/o', {}, '0123456789')).status, 201);
  // The container is now full: even one more byte is refused, in a COPY as in a PUT.
  assert.is((await c.request('PUT', '/v1/AUTH_test/qb/p', {}, 'x')).status, 413);
  assert.is((await c.request('COPY', '/v1/AUTH_test/qb/o', { Destination: 'qb/copy' })).status, 413);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qb/copy2', { 'X-Copy-From': 'qb/o' })).status, 413);
  // Deleting makes room again.
  assert.is((await c.request('DELETE', '/v1/AUTH_test/qb/o')).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qb/p', {}, 'x')).status, 201);
});

test('the object count quota admits that many objects', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/qc', { 'X-Container-Meta-Quota-Count': '2' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qc/a', {}, 'a')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qc/b', {}, 'b')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qc/c', {}, 'c')).status, 413);
});

test('a stranger over a container\'s quota gets 403, not a hint that the container is full', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/qs', { 'X-Container-Meta-Quota-Count': '0' })).status, 201);
  const tester3 = await c.token('test:tester3');
  assert.is((await c.request('PUT', '/v1/AUTH_test/qs/o', { 'X-Auth-Token': tester3 }, 'x')).status, 403);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qs/o', { 'X-Auth-Token': '' }, 'x')).status, 401);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qs/o', {}, 'x')).status, 413);
});

test('only a reseller admin sets an account quota', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': await c.token('test2:tester2', 'testing2'), 'X-Account-Meta-Quota-Bytes': '5' })).status, 403);
  assert.is((await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': admin, 'X-Account-Meta-Quota-Bytes': 'lots' })).status, 400);
  assert.is((await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': admin, 'X-Account-Meta-Quota-Bytes': '5' })).status, 204);
  const head = await c.request('HEAD', '/v1/AUTH_test2', { 'X-Auth-Token': admin });
  assert.is(head.headers['x-account-meta-quota-bytes'], '5');
  // The owner may not remove it either.
  assert.is((await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': await c.token('test2:tester2', 'testing2'), 'X-Remove-Account-Meta-Quota-Bytes': 'x' })).status, 403);
});

test('an upload past the account quota is a 413 once authorized; deletes always work', async () => {
  const owner = await c.token('test2:tester2', 'testing2');
  assert.is((await c.request('PUT', '/v1/AUTH_test2/c', { 'X-Auth-Token': owner })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test2/c/five', { 'X-Auth-Token': owner }, '12345')).status, 201);
  // Account bytes reach the proxy through the container updater.
  await c.runDaemons('container-updater');
  const over = await c.request('PUT', '/v1/AUTH_test2/c/more', { 'X-Auth-Token': owner }, 'x');
  assert.is(over.status, 413);
  assert.is(over.body.toString(), 'Upload exceeds quota.');
  // A stranger is refused as a stranger.
  assert.is((await c.request('PUT', '/v1/AUTH_test2/c/more', {}, 'x')).status, 403);
  // Metadata and deletes are not uploads.
  assert.is((await c.request('POST', '/v1/AUTH_test2/c/five', { 'X-Auth-Token': owner, 'X-Object-Meta-A': 'b' })).status, 202);
  assert.is((await c.request('DELETE', '/v1/AUTH_test2/c/five', { 'X-Auth-Token': owner })).status, 204);
  await c.runDaemons('container-updater');
  assert.is((await c.request('PUT', '/v1/AUTH_test2/c/more', { 'X-Auth-Token': owner }, 'x')).status, 201);
  // The reseller lifts the quota.
  assert.is((await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': admin, 'X-Remove-Account-Meta-Quota-Bytes': 'x' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test2', { 'X-Auth-Token': admin })).headers['x-account-meta-quota-bytes'], undefined);
});

test.run();
