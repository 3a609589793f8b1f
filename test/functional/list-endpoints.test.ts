import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
  assert.is((await c.request('PUT', '/v1/AUTH_test/c%20d')).status, 201);
});
test.after(async () => {
  await c.close();
});

/** What the ring says, in Swift's endpoint form. */
function expected(kind: 'account' | 'container' | 'object', names: string[], quoted: string): string[] {
  const { partition, nodes } = c.rings[kind].getNodes(names[0] as string, names[1], names[2]);
  return nodes.map((n) => `http://${n.ip}:${n.port}/${n.device}/${partition}/${quoted}`);
}

test('v1: the primaries of an object, a container and an account, from the rings, without a token', async () => {
  const obj = await c.request('GET', '/endpoints/AUTH_test/c%20d/dir/o%E2%98%83', { 'X-Auth-Token': '' });
  assert.is(obj.status, 200);
  assert.is(obj.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(obj.body.toString()), expected('object', ['AUTH_test', 'c d', 'dir/o\u2603'], 'AUTH_test/c%20d/dir/o%E2%98%83'));
  assert.match(obj.body.toString(), /^\["http:\/\/[^"]+", "/);
  assert.equal(JSON.parse((await c.request('GET', '/endpoints/v1/AUTH_test/c%20d')).body.toString()), expected('container', ['AUTH_test', 'c d'], 'AUTH_test/c%20d'));
  assert.equal(JSON.parse((await c.request('GET', '/endpoints/AUTH_test')).body.toString()), expected('account', ['AUTH_test'], 'AUTH_test'));
});

test('v2: endpoints and the headers to send, naming the object\'s policy', async () => {
  const res = await c.request('GET', '/endpoints/v2/AUTH_test/c%20d/o');
  assert.equal(JSON.parse(res.body.toString()), { endpoints: expected('object', ['AUTH_test', 'c d', 'o'], 'AUTH_test/c%20d/o'), headers: { 'X-Backend-Storage-Policy-Index': '0' } });
  assert.equal(JSON.parse((await c.request('GET', '/endpoints/v2/AUTH_test')).body.toString()).headers, {});
});

test('only GET; a bad version or no account is a 400', async () => {
  const post = await c.request('POST', '/endpoints/AUTH_test');
  assert.is(post.status, 405);
  assert.is(post.headers['allow'], 'GET');
  assert.is((await c.request('GET', '/endpoints/v3/AUTH_test')).status, 400);
  assert.is((await c.request('GET', '/endpoints/')).status, 400);
});

test.run();
