import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

let c: TestCluster;
test.before(async () => {
  // Account info cached as long as Swift's default: an ACL change must not wait for it.
  c = await startCluster({ proxy: { recheck_account_existence: 60, recheck_container_existence: 60 } });
});
test.after(async () => {
  await c.close();
});

const ACL = 'X-Account-Access-Control';

async function setAcl(value: string): Promise<number> {
  return (await c.request('POST', '/v1/AUTH_test', { [ACL]: value })).status;
}

async function as(user: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string> }> {
  return c.request(method, path, { 'X-Auth-Token': await c.token(user), ...headers }, body);
}

test.after.each(async () => {
  assert.is(await setAcl('{}'), 204);
});

test('/info announces account ACLs', async () => {
  const info = JSON.parse((await httpRequest(c.port, 'GET', '/info')).body.toString());
  assert.equal(info.tempauth, { account_acls: true });
});

test('read-only: reads the account and its containers, sees no ACL or TempURL key, writes nothing', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test', { 'X-Account-Meta-Temp-Url-Key': 'secret', 'X-Account-Meta-Color': 'blue' })).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/ro')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/ro/o', {}, 'data')).status, 201);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test')).status, 403);
  assert.is(await setAcl('{"read-only":["test:tester3"]}'), 204);
  const account = await as('test:tester3', 'GET', '/v1/AUTH_test');
  assert.is(account.status, 200);
  assert.is(account.headers['x-account-meta-color'], 'blue');
  assert.is(account.headers['x-account-meta-temp-url-key'], undefined);
  assert.is(account.headers['x-account-access-control'], undefined);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test/ro')).status, 200);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test/ro/o')).status, 200);
  assert.is((await as('test:tester3', 'POST', '/v1/AUTH_test', { 'X-Account-Meta-Color': 'red' })).status, 403);
  assert.is((await as('test:tester3', 'PUT', '/v1/AUTH_test/ro/o2', {}, 'x')).status, 403);
  assert.is((await as('test:tester3', 'PUT', '/v1/AUTH_test/ro2')).status, 403);
});

test('read-write: containers and objects, but not the account; owner-only container headers are dropped', async () => {
  assert.is(await setAcl('{"read-write":["test:tester3"]}'), 204);
  assert.is((await as('test:tester3', 'HEAD', '/v1/AUTH_test')).status, 204);
  assert.is((await as('test:tester3', 'POST', '/v1/AUTH_test', { 'X-Account-Meta-Color': 'red' })).status, 403);
  assert.is((await as('test:tester3', 'PUT', '/v1/AUTH_test/rw', { 'X-Container-Read': '.r:*', 'X-Container-Meta-Color': 'green' })).status, 201);
  const owner = await c.request('HEAD', '/v1/AUTH_test/rw');
  assert.is(owner.headers['x-container-meta-color'], 'green');
  assert.is(owner.headers['x-container-read'], undefined, 'the ACL a read-write user sent was dropped');
  assert.is((await as('test:tester3', 'PUT', '/v1/AUTH_test/rw/o', {}, 'x')).status, 201);
  assert.is((await as('test:tester3', 'DELETE', '/v1/AUTH_test/rw/o')).status, 204);
  assert.is((await as('test:tester3', 'DELETE', '/v1/AUTH_test/rw')).status, 204);
});

test('admin: an owner, who sees and sets the ACL (even revoking its own access)', async () => {
  const acl = '{"admin":["test:tester3"]}';
  assert.is(await setAcl(acl), 204);
  const read = await as('test:tester3', 'GET', '/v1/AUTH_test');
  assert.is(read.status, 200);
  assert.is(read.headers['x-account-access-control'], acl);
  assert.is((await as('test:tester3', 'POST', '/v1/AUTH_test', { 'X-Account-Meta-Admin': 'yes' })).status, 204);
  assert.is((await as('test:tester3', 'POST', '/v1/AUTH_test', { [ACL]: '{}' })).status, 204);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test')).status, 403);
});

test('another account admin, by account:user', async () => {
  assert.is((await as('test2:tester2', 'GET', '/v1/AUTH_test')).status, 403);
  assert.is(await setAcl('{"admin":["test2:tester2"]}'), 204);
  const head = await as('test2:tester2', 'HEAD', '/v1/AUTH_test');
  assert.is(head.status, 204);
  assert.is(head.headers['x-account-access-control'], '{"admin":["test2:tester2"]}');
});

test('the ACL reads back as Swift writes it (sorted, compact, ASCII); {} reads back as none', async () => {
  assert.is(await setAcl('{ "read-only": ["j\\u00f6rg"],  "admin": ["bob"] }'), 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test')).headers['x-account-access-control'], '{"admin":["bob"],"read-only":["j\\u00f6rg"]}');
  assert.is(await setAcl('{}'), 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test')).headers['x-account-access-control'], undefined);
});

test('a bad ACL is a 400 naming the problem, and the stored one stays', async () => {
  assert.is(await setAcl('{"admin":["bob"]}'), 204);
  for (const bad of ['yuck', '{"admin":"bob"}', '{"admin":["bob"],"invalid_key":"x"}', '{"read-only":[1]}']) {
    const res = await c.request('POST', '/v1/AUTH_test', { [ACL]: bad });
    assert.is(res.status, 400, bad);
    assert.is(res.headers['x-account-access-control'], undefined);
  }
  const yuck = await c.request('POST', '/v1/AUTH_test', { [ACL]: 'yuck' });
  assert.is(yuck.body.toString(), "X-Account-Access-Control invalid: Syntax error in input ('yuck')\n\nInput: yuck\n");
  assert.is((await c.request('HEAD', '/v1/AUTH_test')).headers['x-account-access-control'], '{"admin":["bob"]}');
});

test('the ACL cannot be forged as sysmeta, nor set by a non-owner', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test', { 'X-Account-Sysmeta-Core-Access-Control': '{"admin":["test:tester3"]}' })).status, 204);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test')).status, 403);
  assert.is((await as('test:tester3', 'POST', '/v1/AUTH_test', { [ACL]: '{"admin":["test:tester3"]}' })).status, 403);
  assert.is((await as('test:tester3', 'GET', '/v1/AUTH_test')).status, 403);
});

test('an ACL granted or revoked through one proxy worker holds at once on another (no stale account cache)', async () => {
  const other = await c.anotherProxy();
  try {
    const token = await c.token('test:tester3');
    const read = async (): Promise<number> => (await httpRequest(other.port, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': token })).status;
    assert.is(await read(), 403, 'the other worker has now seen the account');
    assert.is(await setAcl('{"read-only":["test:tester3"]}'), 204);
    assert.is(await read(), 200);
    assert.is(await setAcl('{}'), 204);
    assert.is(await read(), 403);
  } finally {
    await other.close();
  }
});

test.run();
