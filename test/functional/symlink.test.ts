import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
const BODY = 'the target body';
const ETAG = createHash('md5').update(BODY).digest('hex');
const EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';

test.before(async () => {
  c = await startCluster();
  for (const name of ['links', 'targets']) assert.is((await c.request('PUT', `/v1/AUTH_test/${name}`)).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/targets/obj', { 'Content-Type': 'text/x-target' }, BODY)).status, 201);
});
test.after(async () => {
  await c.close();
});

async function link(name: string, headers: Record<string, string>): Promise<void> {
  const res = await c.request('PUT', `/v1/AUTH_test/links/${name}`, { 'Content-Length': '0', ...headers });
  assert.is(res.status, 201, `PUT links/${name}: ${res.body.toString()}`);
}

test('a link reads as its target, with Content-Location; ?symlink=get reads the link itself', async () => {
  await link('dyn', { 'X-Symlink-Target': 'targets/obj' });
  const got = await c.request('GET', '/v1/AUTH_test/links/dyn');
  assert.is(got.status, 200);
  assert.is(got.body.toString(), BODY);
  assert.is(got.headers['etag'], ETAG);
  assert.is(got.headers['content-type'], 'text/x-target');
  assert.is(got.headers['content-location'], '/v1/AUTH_test/targets/obj');
  const head = await c.request('HEAD', '/v1/AUTH_test/links/dyn');
  assert.is(head.status, 200);
  assert.is(head.headers['content-length'], String(BODY.length));
  const itself = await c.request('GET', '/v1/AUTH_test/links/dyn?symlink=get');
  assert.is(itself.status, 200);
  assert.is(itself.body.length, 0);
  assert.is(itself.headers['x-symlink-target'], 'targets/obj');
  assert.is(itself.headers['content-type'], 'application/symlink');
  assert.is(itself.headers['etag'], EMPTY);
  assert.is(itself.headers['content-location'], undefined);
  for (const name of Object.keys(itself.headers)) assert.not.ok(name.includes('sysmeta'), `${name} is not shown to clients`);
  const ranged = await c.request('GET', '/v1/AUTH_test/links/dyn', { Range: 'bytes=4-9' });
  assert.is(ranged.status, 206, 'a range applies to the target, not to the zero-byte link');
  assert.is(ranged.body.toString(), BODY.slice(4, 10));
});

test('a link to nothing is a 404 naming where it points; too many links in a row is a 409', async () => {
  await link('broken', { 'X-Symlink-Target': 'targets/missing' });
  const missing = await c.request('GET', '/v1/AUTH_test/links/broken');
  assert.is(missing.status, 404);
  assert.is(missing.headers['content-location'], '/v1/AUTH_test/targets/missing');
  await link('hop1', { 'X-Symlink-Target': 'targets/obj' });
  await link('hop2', { 'X-Symlink-Target': 'links/hop1' });
  assert.is((await c.request('GET', '/v1/AUTH_test/links/hop2')).body.toString(), BODY, 'symloop_max (2) links in a row are followed');
  await link('hop3', { 'X-Symlink-Target': 'links/hop2' });
  const loop = await c.request('GET', '/v1/AUTH_test/links/hop3');
  assert.is(loop.status, 409);
  assert.is(loop.body.toString(), 'Too many levels of symbolic links, maximum allowed is 2');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/links/hop3')).status, 409);
  assert.is((await c.request('GET', '/v1/AUTH_test/links/hop3?symlink=get')).status, 200);
});

test('a static link checks its target\'s ETag when made and when read; listings show its target and size', async () => {
  const wrong = await c.request('PUT', '/v1/AUTH_test/links/bad-static', { 'Content-Length': '0', 'X-Symlink-Target': 'targets/obj', 'X-Symlink-Target-Etag': 'not-the-etag' });
  assert.is(wrong.status, 409);
  assert.is(wrong.body.toString(), `Object Etag '${ETAG}' does not match X-Symlink-Target-Etag header 'not-the-etag'`);
  assert.is(wrong.headers['content-location'], '/v1/AUTH_test/targets/obj');
  const nowhere = await c.request('PUT', '/v1/AUTH_test/links/nowhere', { 'Content-Length': '0', 'X-Symlink-Target': 'targets/none', 'X-Symlink-Target-Etag': EMPTY });
  assert.is(nowhere.status, 409);
  assert.is(nowhere.body.toString(), 'X-Symlink-Target does not exist');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/links/nowhere')).status, 404, 'nothing was written');

  assert.is((await c.request('PUT', '/v1/AUTH_test/targets/moving', { 'Content-Type': 'text/x-moving' }, 'first')).status, 201);
  const firstEtag = createHash('md5').update('first').digest('hex');
  await link('static', { 'X-Symlink-Target': 'targets/moving', 'X-Symlink-Target-Etag': `"${firstEtag}"` });
  const itself = await c.request('HEAD', '/v1/AUTH_test/links/static?symlink=get');
  assert.is(itself.headers['x-symlink-target-etag'], firstEtag);
  assert.is(itself.headers['x-symlink-target-bytes'], '5');
  assert.is(itself.headers['content-type'], 'text/x-moving', 'a static link takes its target\'s content type');
  const listing = JSON.parse((await c.request('GET', '/v1/AUTH_test/links?format=json&prefix=static')).body.toString());
  assert.equal(listing.map((r: Record<string, unknown>) => [r['name'], r['hash'], r['bytes'], r['symlink_path'], r['symlink_etag'], r['symlink_bytes']]), [
    ['static', EMPTY, 0, '/v1/AUTH_test/targets/moving', firstEtag, 5],
  ]);
  const xml = (await c.request('GET', '/v1/AUTH_test/links?format=xml&prefix=static')).body.toString();
  assert.ok(xml.includes(`<hash>${EMPTY}</hash>`), xml);
  assert.is((await c.request('GET', '/v1/AUTH_test/links?prefix=static')).body.toString(), 'static\n');

  assert.is((await c.request('PUT', '/v1/AUTH_test/targets/moving', {}, 'second')).status, 201);
  const stale = await c.request('GET', '/v1/AUTH_test/links/static');
  assert.is(stale.status, 409);
  assert.is(stale.headers['content-location'], '/v1/AUTH_test/targets/moving');
  assert.is(stale.body.toString(), `Object Etag '${createHash('md5').update('second').digest('hex')}' does not match X-Symlink-Target-Etag header '${firstEtag}'`);
});

test('dynamic links in listings: symlink_path (cross-account too), no etag or size of the target', async () => {
  await link('listed', { 'X-Symlink-Target': 'targets/obj' });
  await link('other-account', { 'X-Symlink-Target': 'c/o', 'X-Symlink-Target-Account': 'AUTH_test2' });
  const rows = JSON.parse((await c.request('GET', '/v1/AUTH_test/links?format=json&prefix=listed')).body.toString());
  assert.equal(rows[0], { bytes: 0, hash: EMPTY, name: 'listed', content_type: 'application/symlink', last_modified: rows[0].last_modified, symlink_path: '/v1/AUTH_test/targets/obj' });
  const other = JSON.parse((await c.request('GET', '/v1/AUTH_test/links?format=json&prefix=other-account')).body.toString());
  assert.is(other[0].symlink_path, '/v1/AUTH_test2/c/o');
  assert.is((await c.request('GET', '/v1/AUTH_test/links/other-account?symlink=get')).headers['x-symlink-target-account'], 'AUTH_test2');
});

test('bad link writes: a body, a slash-led target, no container, itself, a bad etag, a POST setting a target', async () => {
  const cases: [Record<string, string>, string, number, string][] = [
    [{ 'X-Symlink-Target': 'targets/obj' }, 'body', 400, 'Symlink requests require a zero byte body'],
    [{ 'X-Symlink-Target': '/targets/obj' }, '', 412, 'X-Symlink-Target header must be of the form <container name>/<object name>'],
    [{ 'X-Symlink-Target': 'obj' }, '', 412, 'X-Symlink-Target header must be of the form <container name>/<object name>'],
    [{ 'X-Symlink-Target': 'links/bad' }, '', 400, 'Symlink cannot target itself'],
    [{ 'X-Symlink-Target': 'targets/obj', 'X-Symlink-Target-Etag': 'a;b' }, '', 400, 'Bad X-Symlink-Target-Etag format'],
    [{ 'X-Symlink-Target': 'targets/obj', 'X-Symlink-Target-Account': 'a/b' }, '', 412, 'Account name cannot contain slashes'],
  ];
  for (const [headers, body, status, message] of cases) {
    const res = await c.request('PUT', '/v1/AUTH_test/links/bad', headers, body);
    assert.is(res.status, status, JSON.stringify(headers));
    assert.is(res.body.toString(), message);
  }
  assert.is((await c.request('HEAD', '/v1/AUTH_test/links/bad')).status, 404);
  const post = await c.request('POST', '/v1/AUTH_test/targets/obj', { 'X-Symlink-Target': 'targets/other' });
  assert.is(post.status, 400);
  assert.is(post.body.toString(), 'A PUT request is required to set a symlink target');
});

test('a POST to a link changes the link and answers 307 to its target; DELETE removes the link only', async () => {
  await link('posted', { 'X-Symlink-Target': 'targets/obj' });
  const post = await c.request('POST', '/v1/AUTH_test/links/posted', { 'X-Object-Meta-Color': 'red' });
  assert.is(post.status, 307);
  assert.is(post.headers['location'], '/v1/AUTH_test/targets/obj');
  assert.is(post.body.toString(), 'The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.');
  for (const name of Object.keys(post.headers)) assert.not.ok(name.includes('sysmeta'), `${name} is not shown to clients`);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/links/posted?symlink=get')).headers['x-object-meta-color'], 'red');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/targets/obj')).headers['x-object-meta-color'], undefined);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/links/posted')).status, 204);
  assert.is((await c.request('GET', '/v1/AUTH_test/targets/obj')).body.toString(), BODY);
});

test('copying a link copies its target; with ?symlink=get it copies the link', async () => {
  await link('copied', { 'X-Symlink-Target': 'targets/obj' });
  const data = await c.request('PUT', '/v1/AUTH_test/targets/copy-of-target', { 'X-Copy-From': 'links/copied', 'Content-Length': '0' });
  assert.is(data.status, 201);
  const plain = await c.request('GET', '/v1/AUTH_test/targets/copy-of-target?symlink=get');
  assert.is(plain.body.toString(), BODY);
  assert.is(plain.headers['x-symlink-target'], undefined);
  const copyOfLink = await c.request('COPY', '/v1/AUTH_test/links/copied?symlink=get', { Destination: 'links/copy-of-link' });
  assert.is(copyOfLink.status, 201);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/links/copy-of-link?symlink=get')).headers['x-symlink-target'], 'targets/obj');
  assert.is((await c.request('GET', '/v1/AUTH_test/links/copy-of-link')).body.toString(), BODY);
});

test('a link to what the reader may not read: 403 that still names the target (it had no Content-Location)', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/readable', { 'X-Container-Read': 'test:tester3', 'X-Container-Write': 'test:tester3' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/readable/l', { 'Content-Length': '0', 'X-Symlink-Target': 'targets/obj' })).status, 201);
  const tester3 = { 'X-Auth-Token': await c.token('test:tester3') };
  assert.is((await c.request('GET', '/v1/AUTH_test/readable/l?symlink=get', tester3)).status, 200);
  const refused = await c.request('GET', '/v1/AUTH_test/readable/l', tester3);
  assert.is(refused.status, 403);
  assert.is(refused.headers['content-location'], '/v1/AUTH_test/targets/obj');
  const staticRefused = await c.request('PUT', '/v1/AUTH_test/readable/s', { ...tester3, 'Content-Length': '0', 'X-Symlink-Target': 'targets/obj', 'X-Symlink-Target-Etag': ETAG });
  assert.is(staticRefused.status, 403, 'a static link\'s target is checked as its writer, who may write the link\'s container');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/readable/s')).status, 404);
});

test('/info announces symlinks with symloop_max and static links', async () => {
  const info = JSON.parse((await c.request('GET', '/info')).body.toString());
  assert.equal(info.symlink, { symloop_max: 2, static_links: true });
});

test.run();
