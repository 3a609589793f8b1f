import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
  for (const name of ['archive', 'history']) assert.is((await c.request('PUT', `/v1/AUTH_test/${name}`)).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/stack', { 'X-Versions-Location': 'archive' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/hist', { 'X-History-Location': 'history' })).status, 201);
});
test.after(async () => {
  await c.close();
});

async function put(path: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await c.request('PUT', path, headers, body);
  assert.is(res.status, 201, `PUT ${path}`);
}

async function names(container: string, query = ''): Promise<string[]> {
  const res = await c.request('GET', `/v1/AUTH_test/${container}?format=json${query}`);
  return (JSON.parse(res.body.toString() || '[]') as { name: string }[]).map((r) => r.name);
}

async function read(path: string): Promise<string | number> {
  const res = await c.request('GET', path);
  return res.status === 200 ? res.body.toString() : res.status;
}

test('the location headers are kept as sysmeta and shown back; one of them at a time', async () => {
  const head = await c.request('HEAD', '/v1/AUTH_test/stack');
  assert.is(head.headers['x-versions-location'], 'archive');
  assert.is(head.headers['x-history-location'], undefined);
  for (const name of Object.keys(head.headers)) assert.not.ok(name.includes('sysmeta'), name);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/hist')).headers['x-history-location'], 'history');
  const both = await c.request('POST', '/v1/AUTH_test/stack', { 'X-Versions-Location': 'a', 'X-History-Location': 'b' });
  assert.is(both.status, 400);
  assert.is(both.body.toString(), 'Only one of x-versions-location or x-history-location may be specified');
  const slash = await c.request('POST', '/v1/AUTH_test/stack', { 'X-Versions-Location': 'a/b' });
  assert.is(slash.status, 412);
  assert.is(slash.body.toString(), 'Container name cannot contain slashes');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/stack')).headers['x-versions-location'], 'archive', 'refusals changed nothing');

  assert.is((await c.request('PUT', '/v1/AUTH_test/toggle', { 'X-Versions-Location': 'archive' })).status, 201);
  assert.is((await c.request('POST', '/v1/AUTH_test/toggle', { 'X-Remove-Versions-Location': 'x' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/toggle')).headers['x-versions-location'], undefined);
  assert.is((await c.request('POST', '/v1/AUTH_test/toggle', { 'X-History-Location': 'history' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/toggle')).headers['x-history-location'], 'history');
  assert.is((await c.request('POST', '/v1/AUTH_test/toggle', { 'X-History-Location': '' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/toggle')).headers['x-history-location'], undefined);
});

test('stack mode: overwrites are archived with their metadata; each DELETE brings back the one before', async () => {
  await put('/v1/AUTH_test/stack/obj', 'one', { 'Content-Type': 'text/one', 'X-Object-Meta-N': '1' });
  await put('/v1/AUTH_test/stack/obj', 'two', { 'Content-Type': 'text/two' });
  await put('/v1/AUTH_test/stack/obj', 'three');
  const archived = await names('archive', '&prefix=003obj/');
  assert.is(archived.length, 2);
  assert.ok(archived.every((n) => /^003obj\/\d{10}\.\d{5}$/.test(n)), archived.join());
  const oldest = await c.request('GET', `/v1/AUTH_test/archive/${archived[0]}`);
  assert.is(oldest.body.toString(), 'one');
  assert.is(oldest.headers['content-type'], 'text/one');
  assert.is(oldest.headers['x-object-meta-n'], '1');
  assert.is((await c.request('POST', '/v1/AUTH_test/stack/obj', { 'X-Object-Meta-Posted': 'y' })).status, 202);
  assert.is((await names('archive', '&prefix=003obj/')).length, 2, 'a POST makes no version');

  assert.is((await c.request('DELETE', '/v1/AUTH_test/stack/obj')).status, 204);
  assert.is(await read('/v1/AUTH_test/stack/obj'), 'two');
  assert.is((await c.request('DELETE', '/v1/AUTH_test/stack/obj')).status, 204);
  const back = await c.request('GET', '/v1/AUTH_test/stack/obj');
  assert.is(back.body.toString(), 'one');
  assert.is(back.headers['content-type'], 'text/one');
  assert.is(back.headers['x-object-meta-n'], '1');
  assert.equal(await names('archive', '&prefix=003obj/'), []);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/stack/obj')).status, 204);
  assert.is(await read('/v1/AUTH_test/stack/obj'), 404);
});

test('history mode: a DELETE archives the object and a delete marker; nothing comes back', async () => {
  await put('/v1/AUTH_test/hist/doc', 'v1');
  await put('/v1/AUTH_test/hist/doc', 'v2');
  assert.is((await c.request('DELETE', '/v1/AUTH_test/hist/doc')).status, 204);
  assert.is(await read('/v1/AUTH_test/hist/doc'), 404);
  const rows = JSON.parse((await c.request('GET', '/v1/AUTH_test/history?format=json&prefix=003doc/')).body.toString()) as { name: string; content_type: string; bytes: number }[];
  assert.equal(rows.map((r) => [r.content_type, r.bytes]), [['application/octet-stream', 2], ['application/octet-stream', 2], ['application/x-deleted;swift_versions_deleted=1', 0]]);
  assert.equal(await Promise.all(rows.slice(0, 2).map((r) => read(`/v1/AUTH_test/history/${r.name}`))), ['v1', 'v2']);
});

test('a client who may not write the archive gets 412 and changes nothing; one without write access to the container 403', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/shared', { 'X-Versions-Location': 'locked', 'X-Container-Write': 'test:tester3', 'X-Container-Read': 'test:tester3' })).status, 201);
  await put('/v1/AUTH_test/shared/o', 'first');
  const tester3 = await c.token('test:tester3', 'testing3');
  // The archive does not exist: the version cannot be written.
  const refused = await c.request('PUT', '/v1/AUTH_test/shared/o', { 'X-Auth-Token': tester3 }, 'second');
  assert.is(refused.status, 412);
  assert.is(await read('/v1/AUTH_test/shared/o'), 'first');
  assert.is((await c.request('PUT', '/v1/AUTH_test/locked')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/shared/o', { 'X-Auth-Token': tester3 }, 'second')).status, 201, 'the middleware writes the archive for a client who may write the container');
  assert.is(await read('/v1/AUTH_test/shared/o'), 'second');
  assert.is((await c.request('POST', '/v1/AUTH_test/shared', { 'X-Container-Write': '' })).status, 204);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/shared/o', { 'X-Auth-Token': tester3 })).status, 403);
  assert.is(await read('/v1/AUTH_test/shared/o'), 'second');
  assert.is((await names('locked')).length, 1);
});

test('/info lists the legacy flags', async () => {
  const info = JSON.parse((await c.request('GET', '/info')).body.toString());
  assert.equal(info.versioned_writes, { allowed_flags: ['x-versions-location', 'x-history-location'] });
});

test.run();
