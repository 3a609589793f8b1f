import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

let c: TestCluster;
test.before(async () => {
  c = await startCluster();
});
test.after(async () => {
  await c.close();
});

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

test('v1 auth: tokens for valid users, 401 for a bad key, X-Storage-User/Pass accepted', async () => {
  const ok = await httpRequest(c.port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing', Host: 'swift.example:8080' });
  assert.is(ok.status, 200);
  assert.match(ok.headers['x-auth-token'] ?? '', /^AUTH_tk/);
  assert.is(ok.headers['x-storage-token'], ok.headers['x-auth-token']);
  assert.is(ok.headers['x-storage-url'], 'http://swift.example:8080/v1/AUTH_test');
  assert.ok(Number(ok.headers['x-auth-token-expires']) > 80_000);
  const storage = await httpRequest(c.port, 'GET', '/auth/v1.0', { 'X-Storage-User': 'test:tester', 'X-Storage-Pass': 'testing' });
  assert.is(storage.status, 200);
  assert.is((await httpRequest(c.port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'wrong' })).status, 401);
  assert.is((await httpRequest(c.port, 'GET', '/auth/v1.0', { 'X-Auth-User': 'nobody:x', 'X-Auth-Key': 'testing' })).status, 401);
  // The token works as either header.
  assert.is((await httpRequest(c.port, 'HEAD', '/v1/AUTH_test', { 'X-Storage-Token': ok.headers['x-auth-token'] ?? '' })).status, 204);
});

test('wrong tokens are 401, other accounts 403, no token 401', async () => {
  assert.is((await c.request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': 'AUTH_tkforged.sig' })).status, 401);
  const token = await c.token();
  const tampered = token.slice(0, -3) + (token.endsWith('a') ? 'bbb' : 'aaa');
  assert.is((await c.request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': tampered })).status, 401);
  assert.is((await c.request('HEAD', '/v1/AUTH_test2')).status, 403);
  assert.is((await c.request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': '' })).status, 401);
});

test('X-Trans-Id on every response, errors included; /healthcheck and /info', async () => {
  for (const res of [await c.request('HEAD', '/v1/AUTH_test'), await c.request('GET', '/v1/AUTH_test/nope/x'), await httpRequest(c.port, 'GET', '/v1/AUTH_test')]) {
    assert.match(res.headers['x-trans-id'] ?? '', /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    assert.is(res.headers['x-openstack-request-id'], res.headers['x-trans-id']);
  }
  const health = await httpRequest(c.port, 'GET', '/healthcheck');
  assert.is(health.status, 200);
  assert.is(health.body.toString(), 'OK');
  const info = JSON.parse((await httpRequest(c.port, 'GET', '/info')).body.toString());
  assert.is(info.swift.max_file_size, 5_368_709_122);
  assert.is(info.swift.container_listing_limit, 10_000);
  assert.ok(info.tempauth);
});

test('an account exists for its owner before its first write (autocreate), and gets one at the first', async () => {
  const head = await c.request('HEAD', '/v1/AUTH_test2', { 'X-Auth-Token': await c.token('test2:tester2') });
  assert.is(head.status, 204);
  assert.is(head.headers['x-account-container-count'], '0');
  const post = await c.request('POST', '/v1/AUTH_test2', { 'X-Auth-Token': await c.token('test2:tester2'), 'X-Account-Meta-Color': 'red' });
  assert.is(post.status, 204);
  const again = await c.request('HEAD', '/v1/AUTH_test2', { 'X-Auth-Token': await c.token('test2:tester2') });
  assert.is(again.headers['x-account-meta-color'], 'red');
});

test('regression (an account autocreated on one replica only: every container PUT 404 until the replicator ran): the PUT creates it on every replica', async () => {
  // The state an autocreate cut short leaves: the account on one of its replicas.
  const { partition, nodes } = c.rings.account.getNodes('AUTH_partial');
  const [first, ...others] = nodes;
  assert.ok(first && others.length > 0);
  const created = await httpRequest(first.port, 'PUT', `/${first.device}/${partition}/AUTH_partial`, { 'X-Timestamp': `${(Date.now() / 1000).toFixed(5)}` });
  assert.is(created.status, 201);
  const admin = { 'X-Auth-Token': await c.token('admin:admin', 'admin') };
  assert.is((await c.request('HEAD', '/v1/AUTH_partial', admin)).status, 204, 'the proxy finds the account');
  assert.is((await c.request('PUT', '/v1/AUTH_partial/box', admin)).status, 201);
  for (const node of nodes) assert.is((await httpRequest(node.port, 'HEAD', `/${node.device}/${partition}/AUTH_partial`)).status, 204, `account on ${node.device}`);
  assert.is((await c.request('PUT', '/v1/AUTH_partial/box/o', admin, 'x')).status, 201);
  assert.is((await c.request('GET', '/v1/AUTH_partial', admin)).body.toString(), 'box\n');
});

test('a container PUT into an account its other replicas have deleted stays 404 (the account is not made again)', async () => {
  const { partition, nodes } = c.rings.account.getNodes('AUTH_going');
  const [first, ...others] = nodes;
  assert.ok(first && others.length > 0);
  const t = Date.now() / 1000;
  for (const node of nodes) assert.is((await httpRequest(node.port, 'PUT', `/${node.device}/${partition}/AUTH_going`, { 'X-Timestamp': t.toFixed(5) })).status, 201);
  for (const node of others) assert.is((await httpRequest(node.port, 'DELETE', `/${node.device}/${partition}/AUTH_going`, { 'X-Timestamp': (t + 1).toFixed(5) })).status, 204);
  const admin = { 'X-Auth-Token': await c.token('admin:admin', 'admin') };
  assert.is((await c.request('PUT', '/v1/AUTH_going/box', admin)).status, 404);
  for (const node of others) assert.is((await httpRequest(node.port, 'HEAD', `/${node.device}/${partition}/AUTH_going`)).headers['x-account-status'], 'Deleted', `still deleted on ${node.device}`);
});

test('containers: create 201 then 202, list, metadata, 409 when not empty, delete', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/box', { 'X-Container-Meta-Owner': 'me' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/box')).status, 202);
  assert.is((await c.request('PUT', '/v1/AUTH_test/box/a.txt', {}, 'aaa')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/box/dir/b.txt', {}, 'bb')).status, 201);
  const head = await c.request('HEAD', '/v1/AUTH_test/box');
  assert.is(head.headers['x-container-object-count'], '2');
  assert.is(head.headers['x-container-bytes-used'], '5');
  assert.is(head.headers['x-container-meta-owner'], 'me');
  assert.is(head.headers['x-backend-storage-policy-index'], undefined, 'backend headers stay inside');
  assert.is((await c.request('GET', '/v1/AUTH_test/box')).body.toString(), 'a.txt\ndir/b.txt\n');
  const json = JSON.parse((await c.request('GET', '/v1/AUTH_test/box?format=json&delimiter=/')).body.toString());
  assert.equal(json.map((e: { name?: string; subdir?: string }) => e.name ?? e.subdir), ['a.txt', 'dir/']);
  assert.is(json[0].hash, md5('aaa'));
  const xml = await c.request('GET', '/v1/AUTH_test/box', { Accept: 'application/xml' });
  assert.match(xml.body.toString(), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="box"><object><name>a.txt<\/name>/);
  assert.is((await c.request('POST', '/v1/AUTH_test/box', { 'X-Remove-Container-Meta-Owner': 'x' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/box')).headers['x-container-meta-owner'], undefined);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/box')).status, 409);
  await c.request('DELETE', '/v1/AUTH_test/box/a.txt');
  await c.request('DELETE', '/v1/AUTH_test/box/dir/b.txt');
  assert.is((await c.request('DELETE', '/v1/AUTH_test/box')).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/box')).status, 404);
  const account = JSON.parse((await c.request('GET', '/v1/AUTH_test?format=json')).body.toString());
  assert.ok(!account.some((e: { name: string }) => e.name === 'box'));
});

test('objects: PUT, GET, HEAD, POST replaces metadata, ranges, conditionals, chunked, DELETE', async () => {
  await c.request('PUT', '/v1/AUTH_test/objs');
  const body = 'The quick brown fox jumps over the lazy dog';
  const put = await c.request('PUT', '/v1/AUTH_test/objs/fox.txt', { 'X-Object-Meta-Animal': 'fox', 'Content-Type': 'text/plain' }, body);
  assert.is(put.status, 201);
  assert.is(put.headers['etag'], md5(body));
  assert.ok(put.headers['last-modified']);
  const get = await c.request('GET', '/v1/AUTH_test/objs/fox.txt');
  assert.is(get.body.toString(), body);
  assert.is(get.headers['x-object-meta-animal'], 'fox');
  assert.is(get.headers['accept-ranges'], 'bytes');
  assert.is((await c.request('POST', '/v1/AUTH_test/objs/fox.txt', { 'X-Object-Meta-Color': 'red' })).status, 202);
  const head = await c.request('HEAD', '/v1/AUTH_test/objs/fox.txt');
  assert.is(head.headers['x-object-meta-animal'], undefined);
  assert.is(head.headers['x-object-meta-color'], 'red');
  assert.is(head.headers['content-length'], String(body.length));
  const range = await c.request('GET', '/v1/AUTH_test/objs/fox.txt', { Range: 'bytes=4-8' });
  assert.is(range.status, 206);
  assert.is(range.body.toString(), 'quick');
  assert.is((await c.request('GET', '/v1/AUTH_test/objs/fox.txt', { Range: 'bytes=100-' })).status, 416);
  assert.is((await c.request('GET', '/v1/AUTH_test/objs/fox.txt', { 'If-None-Match': md5(body) })).status, 304);
  assert.is((await c.request('GET', '/v1/AUTH_test/objs/fox.txt', { 'If-Match': 'nope' })).status, 412);
  const chunked = await c.request('PUT', '/v1/AUTH_test/objs/chunked.bin', { 'Transfer-Encoding': 'chunked' }, Buffer.alloc(200_000, 7));
  assert.is(chunked.status, 201);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/objs/chunked.bin')).headers['content-length'], '200000');
  assert.is((await c.request('DELETE', '/v1/AUTH_test/objs/fox.txt')).status, 204);
  assert.is((await c.request('GET', '/v1/AUTH_test/objs/fox.txt')).status, 404);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/objs/fox.txt')).status, 404);
  assert.is((await c.request('GET', '/v1/AUTH_test/nocontainer/x')).status, 404);
  assert.is((await c.request('PUT', '/v1/AUTH_test/nocontainer/x', {}, 'x')).status, 404);
});

test('content types are guessed from the name when not given', async () => {
  await c.request('PUT', '/v1/AUTH_test/types');
  await c.request('PUT', '/v1/AUTH_test/types/pic.png', {}, 'x');
  await c.request('PUT', '/v1/AUTH_test/types/noext', {}, 'x');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/types/pic.png')).headers['content-type'], 'image/png');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/types/noext')).headers['content-type'], 'application/octet-stream');
});

test('container ACLs: read and write for listed users, referrers, .rlistings', async () => {
  await c.request('PUT', '/v1/AUTH_test/shared');
  await c.request('PUT', '/v1/AUTH_test/shared/doc', {}, 'shared doc');
  const tester3 = { 'X-Auth-Token': await c.token('test:tester3') };
  assert.is((await c.request('GET', '/v1/AUTH_test/shared/doc', tester3)).status, 403);
  assert.is((await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Read': 'test:tester3' })).status, 204);
  assert.is((await c.request('GET', '/v1/AUTH_test/shared/doc', tester3)).body.toString(), 'shared doc');
  assert.is((await c.request('GET', '/v1/AUTH_test/shared', tester3)).status, 200);
  assert.is((await c.request('PUT', '/v1/AUTH_test/shared/new', tester3, 'x')).status, 403);
  const listed = await c.request('HEAD', '/v1/AUTH_test/shared', tester3);
  assert.is(listed.headers['x-container-read'], undefined, 'only the owner sees ACLs');
  assert.is((await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Write': 'test:tester3' })).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/shared/new', tester3, 'x')).status, 201);
  // Public objects: .r:* lets anyone read objects; listing needs .rlistings.
  const anonymous = { 'X-Auth-Token': '' };
  assert.is((await c.request('GET', '/v1/AUTH_test/shared/doc', anonymous)).status, 401);
  await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Read': '.r:*' });
  assert.is((await c.request('GET', '/v1/AUTH_test/shared/doc', anonymous)).status, 200);
  assert.is((await c.request('GET', '/v1/AUTH_test/shared', anonymous)).status, 401);
  await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Read': '.r:*,.rlistings' });
  assert.is((await c.request('GET', '/v1/AUTH_test/shared', anonymous)).status, 200);
  // Only the owner may change ACLs or create containers.
  assert.is((await c.request('POST', '/v1/AUTH_test/shared', { ...tester3, 'X-Container-Read': '.r:*' })).status, 403);
  assert.is((await c.request('PUT', '/v1/AUTH_test/mine', tester3)).status, 403);
});

test('X-Remove-Container-Read and -Write clear the ACLs (they were ignored: a revoked reader kept reading)', async () => {
  await c.request('PUT', '/v1/AUTH_test/revoked', { 'X-Container-Read': 'test:tester3', 'X-Container-Write': 'test:tester3' });
  await c.request('PUT', '/v1/AUTH_test/revoked/doc', {}, 'doc');
  const tester3 = { 'X-Auth-Token': await c.token('test:tester3') };
  assert.is((await c.request('GET', '/v1/AUTH_test/revoked/doc', tester3)).status, 200);
  assert.is((await c.request('POST', '/v1/AUTH_test/revoked', { 'X-Remove-Container-Read': 'x', 'X-Remove-Container-Write': 'x' })).status, 204);
  const head = await c.request('HEAD', '/v1/AUTH_test/revoked');
  assert.is(head.headers['x-container-read'], undefined);
  assert.is(head.headers['x-container-write'], undefined);
  assert.is((await c.request('GET', '/v1/AUTH_test/revoked/doc', tester3)).status, 403);
  assert.is((await c.request('PUT', '/v1/AUTH_test/revoked/new', tester3, 'x')).status, 403);
});

test('bad input gets the right 4xx and stores nothing', async () => {
  await c.request('PUT', '/v1/AUTH_test/bad');
  const cases: [string, string, Record<string, string>, string | undefined, number][] = [
    ['container name too long', `/v1/AUTH_test/${'c'.repeat(257)}`, {}, undefined, 400],
    ['object name too long', `/v1/AUTH_test/bad/${'o'.repeat(1025)}`, {}, 'x', 400],
    ['invalid UTF-8 (412, as Swift)', '/v1/AUTH_test/bad/%C3%28', {}, 'x', 412],
    ['NUL (412, as Swift)', '/v1/AUTH_test/bad/a%00b', {}, 'x', 412],
    ['metadata name too long', '/v1/AUTH_test/bad/m', { [`X-Object-Meta-${'n'.repeat(129)}`]: 'v' }, 'x', 400],
    ['metadata value too long', '/v1/AUTH_test/bad/m', { 'X-Object-Meta-N': 'v'.repeat(257) }, 'x', 400],
    ['too large', '/v1/AUTH_test/bad/big', { 'Content-Length': '5368709123' }, undefined, 413],
    ['bad X-Delete-After', '/v1/AUTH_test/bad/d', { 'X-Delete-After': 'soon' }, 'x', 400],
    ['X-Delete-At in the past', '/v1/AUTH_test/bad/d', { 'X-Delete-At': '1000' }, 'x', 400],
    ['unknown policy', '/v1/AUTH_test/other', { 'X-Storage-Policy': 'gold' }, undefined, 400],
  ];
  for (const [what, path, headers, body, status] of cases) {
    const res = await c.request('PUT', path, headers, body);
    assert.is(res.status, status, what);
  }
  const listing = await c.request('GET', '/v1/AUTH_test/bad');
  assert.is(listing.status, 204, 'nothing was stored');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/other')).status, 404);
  assert.is((await c.request('GET', '/v2/AUTH_test')).status, 400);
  assert.is((await c.request('PATCH', '/v1/AUTH_test/bad/x')).status, 405);
});

test.run();
