import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { tarArchive, tarMember } from '../helpers/tar-builder.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
});
test.after(async () => {
  await c.close();
});

async function get(path: string): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  const res = await c.request('GET', path);
  return { status: res.status, body: res.body.toString(), headers: res.headers };
}

test('/info advertises bulk_upload', async () => {
  const info = JSON.parse((await c.request('GET', '/info', { 'X-Auth-Token': '' })).body.toString());
  assert.equal(info.bulk_upload, { max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
});

test('extract into the account: containers made from the first path part, top-level files skipped', async () => {
  const archive = tarArchive(
    tarMember('top.txt', 'no container for me'),
    tarMember('ea1/', '', { type: '5' }),
    tarMember('ea1/a.txt', 'file a'),
    tarMember('./ea1/sub/b.txt', 'file b'),
    tarMember('ea2/link', '', { type: '2' }),
    tarMember('ea2/c.json', '{}'),
  );
  const res = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar', { Accept: 'application/json' }, archive);
  assert.is(res.status, 200);
  assert.is(res.body.toString(), '{"Response Status": "201 Created", "Response Body": "", "Number Files Created": 3, "Errors": []}');
  assert.is((await get('/v1/AUTH_test/ea1/a.txt')).body, 'file a');
  assert.is((await get('/v1/AUTH_test/ea1/sub/b.txt')).body, 'file b');
  const json = await get('/v1/AUTH_test/ea2/c.json');
  assert.is(json.body, '{}');
  assert.is(json.headers['content-type'], 'application/json');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/ea2/link')).status, 404);
});

test('tar.gz into a container and prefix; request metadata, X-Delete-After and xattrs applied', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/ea3')).status, 201);
  const archive = gzipSync(tarArchive(
    tarMember('a', 'first'),
    tarMember('b/c', 'second', { pax: { 'SCHILY.xattr.user.mime_type': 'text/x-custom', 'SCHILY.xattr.user.meta.color': 'blue', 'LIBARCHIVE.xattr.user.meta.size': 'L', 'SCHILY.xattr.user.other': 'ignored' } }),
  ));
  const res = await c.request('PUT', '/v1/AUTH_test/ea3/pre/?extract-archive=tar.gz', { 'X-Object-Meta-Batch': '7', 'X-Delete-After': '3600' }, archive);
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'Number Files Created: 2\nResponse Body: \nResponse Status: 201 Created\nErrors:\n');
  assert.is((await get('/v1/AUTH_test/ea3/pre/a')).body, 'first');
  const second = await get('/v1/AUTH_test/ea3/pre/b/c');
  assert.is(second.body, 'second');
  assert.is(second.headers['content-type'], 'text/x-custom');
  assert.is(second.headers['x-object-meta-color'], 'blue');
  assert.is(second.headers['x-object-meta-size'], 'L');
  assert.is(second.headers['x-object-meta-batch'], '7');
  assert.ok(Number(second.headers['x-delete-at']) > Date.now() / 1000 + 3500);
});

test('bad archives: 200 with the error in the body, nothing stored', async () => {
  const garbage = await c.request('PUT', '/v1/AUTH_test/ea4?extract-archive=tar', { Accept: 'application/json' }, 'this is not a tar file'.repeat(40));
  assert.is(garbage.status, 200);
  assert.equal(JSON.parse(garbage.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': 'Invalid Tar File: invalid header', 'Number Files Created': 0, Errors: [] });
  const notGzip = await c.request('PUT', '/v1/AUTH_test/ea4?extract-archive=tar.gz', { Accept: 'application/json' }, tarArchive(tarMember('a', 'x')));
  const result = JSON.parse(notGzip.body.toString());
  assert.is(result['Response Status'], '400 Bad Request');
  assert.match(result['Response Body'], /^Invalid Tar File: /);
  const empty = await c.request('PUT', '/v1/AUTH_test/ea4?extract-archive=tar', { Accept: 'application/json' }, tarArchive(tarMember('only-a-dir/', '', { type: '5' })));
  assert.is(JSON.parse(empty.body.toString())['Response Body'], 'Invalid Tar File: No Valid Files');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/ea4')).status, 404);
});

test('refused up front: unknown format 400, tar.bz2 400, Accept 406', async () => {
  const unknown = await c.request('PUT', '/v1/AUTH_test?extract-archive=zip', {}, 'x');
  assert.is(unknown.status, 400);
  assert.is(unknown.body.toString(), 'Unsupported archive format');
  const bz2 = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar.bz2', { Accept: 'application/json' }, 'BZh9');
  assert.is(bz2.status, 400);
  assert.match(JSON.parse(bz2.body.toString())['Response Body'], /bzip2/);
  const accept = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar', { Accept: 'image/png' }, tarArchive(tarMember('ea5/a', 'x')));
  assert.is(accept.status, 406);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/ea5')).status, 404);
});

test('failures are listed per file; without a token the extraction stops with 401', async () => {
  const bad = Buffer.from([0x65, 0x61, 0x36, 0x2f, 0xff, 0xfe]);
  const res = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar', { Accept: 'application/json' }, tarArchive(tarMember(bad, 'x'), tarMember('ea6/good', 'ok')));
  assert.equal(JSON.parse(res.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': '', 'Number Files Created': 1, Errors: [['ea6/%FF%FE', '412 Precondition Failed']] });
  const anon = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': '', Accept: 'application/json' }, tarArchive(tarMember('ea7/a', 'x'), tarMember('ea7/b', 'y')));
  assert.equal(JSON.parse(anon.body.toString()), { 'Response Status': '401 Unauthorized', 'Response Body': '', 'Number Files Created': 0, Errors: [] });
  const token3 = await c.token('test:tester3');
  const limited = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar', { 'X-Auth-Token': token3, Accept: 'application/json' }, tarArchive(tarMember('ea8/a', 'x')));
  assert.equal(JSON.parse(limited.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': '', 'Number Files Created': 0, Errors: [['/v1/AUTH_test/ea8', '403 Forbidden'], ['ea8/a', '403 Forbidden']] });
  for (const container of ['ea7', 'ea8']) assert.is((await c.request('HEAD', `/v1/AUTH_test/${container}`)).status, 404);
});

test('a large file streams through (6 MiB)', async () => {
  const big = Buffer.alloc(6 * 1024 * 1024, 7);
  const res = await c.request('PUT', '/v1/AUTH_test?extract-archive=tar.gz', { Accept: 'application/json' }, gzipSync(tarArchive(tarMember('ea9/big', big), tarMember('ea9/after', 'after'))));
  assert.is(JSON.parse(res.body.toString())['Number Files Created'], 2);
  const got = await c.request('GET', '/v1/AUTH_test/ea9/big');
  assert.ok(got.body.equals(big));
  assert.is((await get('/v1/AUTH_test/ea9/after')).body, 'after');
});

test.run();
