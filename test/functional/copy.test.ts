import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
  for (const name of ['src', 'dst']) assert.is((await c.request('PUT', `/v1/AUTH_test/${name}`)).status, 201);
});
test.after(async () => {
  await c.close();
});

async function put(path: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await c.request('PUT', path, headers, body);
  assert.is(res.status, 201, `PUT ${path}`);
}

async function gone(path: string): Promise<void> {
  assert.is((await c.request('HEAD', path)).status, 404, `${path} should not exist`);
}

test('COPY: body, metadata, content type and stored headers carried; X-Copied-From* in the answer', async () => {
  await put('/v1/AUTH_test/src/a.txt', 'hello copy', { 'Content-Type': 'text/x-thing', 'X-Object-Meta-Color': 'blue', 'Content-Disposition': 'attachment; filename=a.txt', 'Content-Encoding': 'identity' });
  const source = await c.request('HEAD', '/v1/AUTH_test/src/a.txt');
  const res = await c.request('COPY', '/v1/AUTH_test/src/a.txt', { Destination: 'dst/b.txt' });
  assert.is(res.status, 201);
  assert.is(res.headers['x-copied-from'], 'src/a.txt');
  assert.is(res.headers['x-copied-from-account'], 'AUTH_test');
  assert.is(res.headers['x-copied-from-last-modified'], source.headers['last-modified']);
  assert.is(res.headers['x-object-meta-color'], 'blue');
  assert.is(res.headers['etag'], source.headers['etag']);
  assert.ok(res.headers['last-modified']);
  const got = await c.request('GET', '/v1/AUTH_test/dst/b.txt');
  assert.is(got.status, 200);
  assert.is(got.body.toString(), 'hello copy');
  assert.is(got.headers['content-type'], 'text/x-thing');
  assert.is(got.headers['x-object-meta-color'], 'blue');
  assert.is(got.headers['content-disposition'], 'attachment; filename=a.txt');
  assert.is(got.headers['content-encoding'], 'identity');
  assert.is(got.headers['etag'], source.headers['etag']);
  // The source is untouched.
  assert.is((await c.request('GET', '/v1/AUTH_test/src/a.txt')).body.toString(), 'hello copy');
});

test('COPY: Destination with a leading slash, percent-encoded and raw UTF-8 names', async () => {
  await put(`/v1/AUTH_test/src/${encodeURIComponent('ünï cødé')}/${encodeURIComponent('x%y?.txt')}`, 'unicode');
  const encoded = await c.request('COPY', `/v1/AUTH_test/src/${encodeURIComponent('ünï cødé')}/${encodeURIComponent('x%y?.txt')}`, { Destination: `/dst/${encodeURIComponent('cøpy one')}` });
  assert.is(encoded.status, 201);
  assert.is(encoded.headers['x-copied-from'], 'src/%C3%BCn%C3%AF%20c%C3%B8d%C3%A9/x%25y%3F.txt');
  assert.is((await c.request('GET', `/v1/AUTH_test/dst/${encodeURIComponent('cøpy one')}`)).body.toString(), 'unicode');
  const raw = await c.request('COPY', `/v1/AUTH_test/src/${encodeURIComponent('ünï cødé')}/${encodeURIComponent('x%y?.txt')}`, { Destination: Buffer.from('dst/rå w', 'utf8').toString('latin1') });
  assert.is(raw.status, 201);
  assert.is((await c.request('GET', `/v1/AUTH_test/dst/${encodeURIComponent('rå w')}`)).body.toString(), 'unicode');
});

test('PUT with X-Copy-From: request metadata on top, Content-Type override, X-Fresh-Metadata', async () => {
  await put('/v1/AUTH_test/src/m.txt', 'meta', { 'Content-Type': 'text/plain', 'X-Object-Meta-Keep': 'k', 'X-Object-Meta-Over': 'old' });
  const merged = await c.request('PUT', '/v1/AUTH_test/dst/merged', { 'X-Copy-From': 'src/m.txt', 'X-Object-Meta-Over': 'new', 'X-Object-Meta-Added': 'a', 'Content-Type': 'application/x-new', 'Content-Length': '0' });
  assert.is(merged.status, 201);
  assert.is(merged.headers['x-copied-from'], 'src/m.txt');
  const m = await c.request('HEAD', '/v1/AUTH_test/dst/merged');
  assert.is(m.headers['x-object-meta-keep'], 'k');
  assert.is(m.headers['x-object-meta-over'], 'new');
  assert.is(m.headers['x-object-meta-added'], 'a');
  assert.is(m.headers['content-type'], 'application/x-new');
  const fresh = await c.request('PUT', '/v1/AUTH_test/dst/fresh', { 'X-Copy-From': '/src/m.txt', 'X-Fresh-Metadata': 'true', 'X-Object-Meta-Only': 'this', 'Content-Length': '0' });
  assert.is(fresh.status, 201);
  const f = await c.request('HEAD', '/v1/AUTH_test/dst/fresh');
  assert.is(f.headers['x-object-meta-only'], 'this');
  assert.is(f.headers['x-object-meta-keep'], undefined);
  assert.is(f.headers['content-type'], 'text/plain');
  assert.is((await c.request('GET', '/v1/AUTH_test/dst/fresh')).body.toString(), 'meta');
});

test('copy of an object onto itself changes its metadata and keeps its bytes', async () => {
  await put('/v1/AUTH_test/src/self', 'myself', { 'X-Object-Meta-A': '1' });
  const res = await c.request('COPY', '/v1/AUTH_test/src/self', { Destination: 'src/self', 'X-Object-Meta-B': '2', 'Content-Type': 'text/x-self' });
  assert.is(res.status, 201);
  const got = await c.request('GET', '/v1/AUTH_test/src/self');
  assert.is(got.body.toString(), 'myself');
  assert.is(got.headers['x-object-meta-a'], '1');
  assert.is(got.headers['x-object-meta-b'], '2');
  assert.is(got.headers['content-type'], 'text/x-self');
});

test('Range on a copy makes a partial copy; conditions apply to the source', async () => {
  await put('/v1/AUTH_test/src/range', '0123456789');
  const res = await c.request('PUT', '/v1/AUTH_test/dst/range', { 'X-Copy-From': 'src/range', Range: 'bytes=2-5', 'Content-Length': '0' });
  assert.is(res.status, 201);
  assert.is((await c.request('GET', '/v1/AUTH_test/dst/range')).body.toString(), '2345');
  const failed = await c.request('COPY', '/v1/AUTH_test/src/range', { Destination: 'dst/cond', 'If-Match': '"nope"' });
  assert.is(failed.status, 412);
  await gone('/v1/AUTH_test/dst/cond');
});

test('X-Delete-After on a copy sets X-Delete-At on the new object only', async () => {
  await put('/v1/AUTH_test/src/expiring', 'soon');
  const res = await c.request('COPY', '/v1/AUTH_test/src/expiring', { Destination: 'dst/expiring', 'X-Delete-After': '3600' });
  assert.is(res.status, 201);
  const head = await c.request('HEAD', '/v1/AUTH_test/dst/expiring');
  const at = Number(head.headers['x-delete-at']);
  assert.ok(at > Date.now() / 1000 + 3500 && at < Date.now() / 1000 + 3700, `x-delete-at ${at}`);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/src/expiring')).headers['x-delete-at'], undefined);
  // A source's X-Delete-At is carried.
  const carried = await c.request('COPY', '/v1/AUTH_test/dst/expiring', { Destination: 'dst/expiring2' });
  assert.is(carried.status, 201);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/dst/expiring2')).headers['x-delete-at'], String(at));
});

test('bad copy requests: 412 for a missing or malformed Destination, 400 for a body; nothing stored', async () => {
  await put('/v1/AUTH_test/src/x', 'x');
  const none = await c.request('COPY', '/v1/AUTH_test/src/x');
  assert.is(none.status, 412);
  assert.is(none.body.toString(), 'Destination header required');
  for (const bad of ['onlycontainer', '/dst/', '//obj', '/', 'dst']) {
    const res = await c.request('COPY', '/v1/AUTH_test/src/x', { Destination: bad });
    assert.is(res.status, 412, bad);
    assert.is(res.body.toString(), 'Destination header must be of the form <container name>/<object name>');
  }
  const badFrom = await c.request('PUT', '/v1/AUTH_test/dst/y', { 'X-Copy-From': 'nocontainer', 'Content-Length': '0' });
  assert.is(badFrom.status, 412);
  assert.is(badFrom.body.toString(), 'X-Copy-From header must be of the form <container name>/<object name>');
  const withBody = await c.request('PUT', '/v1/AUTH_test/dst/y', { 'X-Copy-From': 'src/x' }, 'not empty');
  assert.is(withBody.status, 400);
  assert.is(withBody.body.toString(), 'Copy requests require a zero byte body');
  const emptyAccount = await c.request('COPY', '/v1/AUTH_test/src/x', { Destination: 'dst/y', 'Destination-Account': '' });
  assert.is(emptyAccount.status, 412);
  assert.is(emptyAccount.body.toString(), 'Account name cannot be empty');
  const slashAccount = await c.request('PUT', '/v1/AUTH_test/dst/y', { 'X-Copy-From': 'src/x', 'X-Copy-From-Account': 'AUTH_test/src', 'Content-Length': '0' });
  assert.is(slashAccount.status, 412);
  assert.is(slashAccount.body.toString(), 'Account name cannot contain slashes');
  const badUtf8 = await c.request('COPY', '/v1/AUTH_test/src/x', { Destination: 'dst/%FF' });
  assert.is(badUtf8.status, 412);
  await gone('/v1/AUTH_test/dst/y');
});

test('missing source is 404, missing destination container 404, nothing stored', async () => {
  const noSource = await c.request('COPY', '/v1/AUTH_test/src/does-not-exist', { Destination: 'dst/z' });
  assert.is(noSource.status, 404);
  await gone('/v1/AUTH_test/dst/z');
  const noSourceContainer = await c.request('PUT', '/v1/AUTH_test/dst/z', { 'X-Copy-From': 'nosuch/x', 'Content-Length': '0' });
  assert.is(noSourceContainer.status, 404);
  await put('/v1/AUTH_test/src/w', 'w');
  const noDest = await c.request('COPY', '/v1/AUTH_test/src/w', { Destination: 'nosuchcontainer/w' });
  assert.is(noDest.status, 404);
  // The source body was released: the cluster still serves it.
  assert.is((await c.request('GET', '/v1/AUTH_test/src/w')).body.toString(), 'w');
});

test('cross-account copy needs read on the source and write on the destination', async () => {
  const token2 = await c.token('test2:tester2');
  assert.is((await c.request('PUT', '/v1/AUTH_test2/theirs', { 'X-Auth-Token': token2 })).status, 201);
  await put('/v1/AUTH_test/src/shared', 'shared bytes');
  // test:tester may not write into AUTH_test2.
  const denied = await c.request('COPY', '/v1/AUTH_test/src/shared', { Destination: 'theirs/shared', 'Destination-Account': 'AUTH_test2' });
  assert.is(denied.status, 403);
  assert.is((await c.request('HEAD', '/v1/AUTH_test2/theirs/shared', { 'X-Auth-Token': token2 })).status, 404);
  // test2:tester2 may not read AUTH_test/src ...
  const noRead = await c.request('PUT', '/v1/AUTH_test2/theirs/shared', { 'X-Auth-Token': token2, 'X-Copy-From': 'src/shared', 'X-Copy-From-Account': 'AUTH_test', 'Content-Length': '0' });
  assert.is(noRead.status, 403);
  assert.is((await c.request('HEAD', '/v1/AUTH_test2/theirs/shared', { 'X-Auth-Token': token2 })).status, 404);
  // ... until the container's read ACL lets them.
  assert.is((await c.request('POST', '/v1/AUTH_test/src', { 'X-Container-Read': 'test2:tester2' })).status, 204);
  const allowed = await c.request('PUT', '/v1/AUTH_test2/theirs/shared', { 'X-Auth-Token': token2, 'X-Copy-From': 'src/shared', 'X-Copy-From-Account': 'AUTH_test', 'Content-Length': '0' });
  assert.is(allowed.status, 201);
  assert.is(allowed.headers['x-copied-from-account'], 'AUTH_test');
  assert.is((await c.request('GET', '/v1/AUTH_test2/theirs/shared', { 'X-Auth-Token': token2 })).body.toString(), 'shared bytes');
  // COPY into one's own account from the other, with Destination-Account.
  const back = await c.request('COPY', '/v1/AUTH_test/src/shared', { 'X-Auth-Token': token2, Destination: 'theirs/back', 'Destination-Account': 'AUTH_test2' });
  assert.is(back.status, 201);
  assert.is(back.headers['x-copied-from-account'], 'AUTH_test');
  assert.is((await c.request('POST', '/v1/AUTH_test/src', { 'X-Container-Read': '' })).status, 204);
});

test('a non-admin user without ACLs may not copy; anonymous gets 401', async () => {
  await put('/v1/AUTH_test/src/private', 'private');
  const token3 = await c.token('test:tester3');
  const res = await c.request('COPY', '/v1/AUTH_test/src/private', { 'X-Auth-Token': token3, Destination: 'dst/private' });
  assert.is(res.status, 403);
  const anon = await c.request('COPY', '/v1/AUTH_test/src/private', { 'X-Auth-Token': '', Destination: 'dst/private' });
  assert.is(anon.status, 401);
  await gone('/v1/AUTH_test/dst/private');
});

test('a DLO: its content is copied as a plain object; ?multipart-manifest=get copies the manifest', async () => {
  await put('/v1/AUTH_test/src/seg/001', 'aaa');
  await put('/v1/AUTH_test/src/seg/002', 'bbb');
  await put('/v1/AUTH_test/src/dlo', '', { 'X-Object-Manifest': 'src/seg/' });
  const content = await c.request('COPY', '/v1/AUTH_test/src/dlo', { Destination: 'dst/dlo-content' });
  assert.is(content.status, 201);
  const plain = await c.request('GET', '/v1/AUTH_test/dst/dlo-content?multipart-manifest=get');
  assert.is(plain.body.toString(), 'aaabbb');
  assert.is(plain.headers['x-object-manifest'], undefined);
  const res = await c.request('COPY', '/v1/AUTH_test/src/dlo?multipart-manifest=get', { Destination: 'dst/dlo-manifest' });
  assert.is(res.status, 201);
  const head = await c.request('HEAD', '/v1/AUTH_test/dst/dlo-manifest?multipart-manifest=get');
  assert.is(head.headers['x-object-manifest'], 'src/seg/');
  assert.is(head.headers['content-length'], '0');
  assert.is((await c.request('GET', '/v1/AUTH_test/dst/dlo-manifest')).body.toString(), 'aaabbb');
});

test('an SLO: its content is copied as a plain object; ?multipart-manifest=get copies the manifest', async () => {
  await put('/v1/AUTH_test/src/sseg/1', 'x'.repeat(10));
  await put('/v1/AUTH_test/src/sseg/2', 'y'.repeat(5));
  const manifest = JSON.stringify([{ path: '/src/sseg/1' }, { path: '/src/sseg/2' }]);
  const made = await c.request('PUT', '/v1/AUTH_test/src/slo?multipart-manifest=put', {}, manifest);
  assert.is(made.status, 201);
  const content = await c.request('PUT', '/v1/AUTH_test/dst/slo-content', { 'X-Copy-From': 'src/slo', 'Content-Length': '0' });
  assert.is(content.status, 201);
  const plain = await c.request('GET', '/v1/AUTH_test/dst/slo-content?multipart-manifest=get');
  assert.is(plain.body.toString(), 'x'.repeat(10) + 'y'.repeat(5));
  assert.is(plain.headers['x-static-large-object'], undefined);
  const copied = await c.request('COPY', '/v1/AUTH_test/src/slo?multipart-manifest=get', { Destination: 'dst/slo-manifest' });
  assert.is(copied.status, 201);
  const head = await c.request('HEAD', '/v1/AUTH_test/dst/slo-manifest');
  assert.is(head.headers['x-static-large-object'], 'True');
  assert.is(head.headers['content-length'], '15');
  assert.is((await c.request('GET', '/v1/AUTH_test/dst/slo-manifest')).body.toString(), 'x'.repeat(10) + 'y'.repeat(5));
});

test('a large copy streams (8 MiB) and keeps its ETag', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  const res = await c.request('PUT', '/v1/AUTH_test/src/big', {}, big);
  assert.is(res.status, 201);
  const copied = await c.request('COPY', '/v1/AUTH_test/src/big', { Destination: 'dst/big' });
  assert.is(copied.status, 201);
  assert.is(copied.headers['etag'], res.headers['etag']);
  const got = await c.request('GET', '/v1/AUTH_test/dst/big');
  assert.ok(got.body.equals(big));
});

test('OPTIONS answers are left alone unless they succeed', async () => {
  const res = await c.request('OPTIONS', '/v1/AUTH_test/src/x');
  assert.ok(res.status >= 200);
});

test.run();
