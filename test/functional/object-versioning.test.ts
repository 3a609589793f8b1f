import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const MARKER = 'application/x-deleted;swift_versions_deleted=1';

test.before(async () => {
  c = await startCluster();
});
test.after(async () => {
  await c.close();
});

async function put(path: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await c.request('PUT', path, headers, body);
  assert.is(res.status, 201, `PUT ${path}: ${res.body.toString()}`);
  return res.headers['x-object-version-id'] ?? '';
}

interface VersionRow {
  name: string;
  version_id: string;
  is_latest: boolean;
  content_type: string;
  bytes: number;
  hash: string;
}

async function versions(container: string, query = ''): Promise<VersionRow[]> {
  const res = await c.request('GET', `/v1/AUTH_test/${container}?versions${query}`);
  assert.is(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()) as VersionRow[];
}

async function newContainer(name: string): Promise<void> {
  const res = await c.request('PUT', `/v1/AUTH_test/${name}`, { 'X-Versions-Enabled': 'true' });
  assert.is(res.status, 201);
}

test('enabling makes a hidden versions container that clients never see; X-Versions-Enabled is shown', async () => {
  await newContainer('shown');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/shown')).headers['x-versions-enabled'], 'True');
  const account = JSON.parse((await c.request('GET', '/v1/AUTH_test?format=json')).body.toString()) as { name: string }[];
  assert.ok(account.some((r) => r.name === 'shown'));
  assert.not.ok(account.some((r) => r.name.includes('\u0000')), 'the hidden container is not listed');
  assert.is((await c.request('GET', '/v1/AUTH_test/%00versions%00shown')).status, 412);
  assert.is((await c.request('POST', '/v1/AUTH_test/shown', { 'X-Versions-Enabled': 'false' })).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/shown')).headers['x-versions-enabled'], 'False');
});

test('every PUT is a version: the object reads as the newest, any version by ?version-id, all in ?versions', async () => {
  await newContainer('docs');
  const v1 = await put('/v1/AUTH_test/docs/a', 'first', { 'Content-Type': 'text/one', 'X-Object-Meta-Kept': 'one' });
  const v2 = await put('/v1/AUTH_test/docs/a', 'second', { 'Content-Type': 'text/two' });
  assert.ok(/^\d{10}\.\d{5}$/.test(v1) && v2 > v1, `${v1} ${v2}`);
  const current = await c.request('GET', '/v1/AUTH_test/docs/a');
  assert.is(current.body.toString(), 'second');
  assert.is(current.headers['x-object-version-id'], v2);
  assert.is(current.headers['content-type'], 'text/two');
  assert.is(current.headers['content-location'], `/v1/AUTH_test/docs/a?version-id=${v2}`);
  const old = await c.request('GET', `/v1/AUTH_test/docs/a?version-id=${v1}`);
  assert.is(old.body.toString(), 'first');
  assert.is(old.headers['x-object-version-id'], v1);
  assert.is(old.headers['x-object-meta-kept'], 'one');
  assert.equal((await versions('docs')).map((r) => [r.name, r.version_id, r.is_latest, r.content_type, r.bytes, r.hash]), [
    ['a', v2, true, 'text/two', 6, md5('second')],
    ['a', v1, false, 'text/one', 5, md5('first')],
  ]);
  const listed = JSON.parse((await c.request('GET', '/v1/AUTH_test/docs?format=json')).body.toString());
  assert.equal([listed[0].name, listed[0].bytes, listed[0].hash, listed[0].version_symlink, listed[0].symlink_path], ['a', 6, md5('second'), true, `/v1/AUTH_test/docs/a?version-id=${v2}`]);
  assert.is((await c.request('GET', '/v1/AUTH_test/docs')).body.toString(), 'a\n');
  const head = await c.request('HEAD', '/v1/AUTH_test/docs');
  assert.is(head.headers['x-container-bytes-used'], '11', 'both versions count');
  const link = await c.request('GET', '/v1/AUTH_test/docs/a?symlink=get');
  assert.is(link.headers['x-symlink-target'], `docs/a?version-id=${v2}`);
});

test('?versions paging: marker with version_marker, prefix, limit, reverse; JSON only', async () => {
  await newContainer('paged');
  const a1 = await put('/v1/AUTH_test/paged/a', '1');
  const a2 = await put('/v1/AUTH_test/paged/a', '2');
  const b1 = await put('/v1/AUTH_test/paged/b', '3');
  const ids = (rows: VersionRow[]): string[] => rows.map((r) => `${r.name}@${r.version_id}`);
  assert.equal(ids(await versions('paged', '&limit=2')), [`a@${a2}`, `a@${a1}`]);
  assert.equal(ids(await versions('paged', `&marker=a&version_marker=${a2}`)), [`a@${a1}`, `b@${b1}`]);
  assert.equal(ids(await versions('paged', '&marker=a')), [`b@${b1}`]);
  assert.equal(ids(await versions('paged', '&prefix=b')), [`b@${b1}`]);
  assert.equal(ids(await versions('paged', '&reverse=on')), [`b@${b1}`, `a@${a1}`, `a@${a2}`]);
  for (const [query, headers] of [['&format=xml', {}], ['&format=plain', {}], ['', { Accept: 'application/xml' }]] as const) {
    assert.is((await c.request('GET', `/v1/AUTH_test/paged?versions${query}`, headers)).status, 406, `${query} ${JSON.stringify(headers)}`);
  }
  const noMarker = await c.request('GET', `/v1/AUTH_test/paged?versions&version_marker=${a1}`);
  assert.is(noMarker.status, 400);
  assert.is(noMarker.body.toString(), 'version_marker param requires marker');
  assert.is((await c.request('GET', '/v1/AUTH_test/paged?versions&marker=a&version_marker=x')).status, 400);
  assert.is((await c.request('GET', '/v1/AUTH_test/paged?versions&delimiter=.')).status, 400);
});

test('DELETE leaves a delete marker; versions stay readable; deleting versions by id', async () => {
  await newContainer('gone');
  const v1 = await put('/v1/AUTH_test/gone/o', 'one');
  const v2 = await put('/v1/AUTH_test/gone/o', 'two');
  const del = await c.request('DELETE', '/v1/AUTH_test/gone/o');
  assert.is(del.status, 204);
  const marker = del.headers['x-object-version-id'] ?? '';
  assert.ok(marker > v2);
  assert.is((await c.request('GET', '/v1/AUTH_test/gone/o')).status, 404);
  const rows = await versions('gone');
  assert.equal(rows.map((r) => [r.version_id, r.is_latest, r.content_type]), [[marker, true, MARKER], [v2, false, 'application/octet-stream'], [v1, false, 'application/octet-stream']]);
  const markerRead = await c.request('HEAD', `/v1/AUTH_test/gone/o?version-id=${marker}`);
  assert.is(markerRead.status, 404);
  assert.is(markerRead.headers['content-type'], MARKER);
  assert.is((await c.request('GET', `/v1/AUTH_test/gone/o?version-id=${v1}`)).body.toString(), 'one');
  const drop = await c.request('DELETE', `/v1/AUTH_test/gone/o?version-id=${v1}`);
  assert.is(drop.status, 204);
  assert.is(drop.headers['x-object-version-id'], v1);
  assert.is(drop.headers['x-object-current-version-id'], 'null');
  assert.equal((await versions('gone')).map((r) => r.version_id), [marker, v2]);
});

test('deleting the current version by id removes the link too; PUT ?version-id makes an old one current', async () => {
  await newContainer('current');
  const v1 = await put('/v1/AUTH_test/current/o', 'one');
  const v2 = await put('/v1/AUTH_test/current/o', 'two');
  const made = await c.request('PUT', `/v1/AUTH_test/current/o?version-id=${v1}`, { 'Content-Length': '0' });
  assert.is(made.status, 201);
  assert.is(made.headers['x-object-version-id'], v1);
  assert.is((await c.request('GET', '/v1/AUTH_test/current/o')).body.toString(), 'one');
  assert.equal((await versions('current')).map((r) => [r.version_id, r.is_latest]), [[v2, false], [v1, true]]);
  const drop = await c.request('DELETE', `/v1/AUTH_test/current/o?version-id=${v1}`);
  assert.is(drop.status, 204);
  assert.is((await c.request('GET', '/v1/AUTH_test/current/o')).status, 404, 'no link is left');
  assert.equal((await versions('current')).map((r) => r.version_id), [v2]);
  const missing = await c.request('PUT', `/v1/AUTH_test/current/o?version-id=${v1}`, { 'Content-Length': '0' });
  assert.is(missing.status, 404);
  assert.is(missing.body.toString(), 'The specified version does not exist');
});

test('restore by COPY of a version; a POST changes the current version\'s metadata and makes none', async () => {
  await newContainer('restore');
  const v1 = await put('/v1/AUTH_test/restore/o', 'original');
  await put('/v1/AUTH_test/restore/o', 'overwritten');
  const copied = await c.request('COPY', `/v1/AUTH_test/restore/o?version-id=${v1}`, { Destination: 'restore/o' });
  assert.is(copied.status, 201);
  assert.is(copied.headers['x-copied-from-version-id'], v1);
  assert.is((await c.request('GET', '/v1/AUTH_test/restore/o')).body.toString(), 'original');
  assert.is((await versions('restore')).length, 3);
  const post = await c.request('POST', '/v1/AUTH_test/restore/o', { 'X-Object-Meta-Color': 'green' });
  assert.is(post.status, 202);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/restore/o')).headers['x-object-meta-color'], 'green');
  assert.is((await versions('restore')).length, 3);
});

test('with versioning off a PUT writes version null, which the next enabled write keeps as a version', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/later')).status, 201);
  await put('/v1/AUTH_test/later/o', 'plain');
  assert.is((await c.request('GET', '/v1/AUTH_test/later/o')).headers['x-object-version-id'], undefined, 'a container never versioned is left alone');
  assert.is((await c.request('POST', '/v1/AUTH_test/later', { 'X-Versions-Enabled': 'true' })).status, 204);
  const nullRead = await c.request('GET', '/v1/AUTH_test/later/o?version-id=null');
  assert.is(nullRead.body.toString(), 'plain');
  assert.is(nullRead.headers['x-object-version-id'], 'null');
  assert.equal((await versions('later')).map((r) => [r.version_id, r.is_latest]), [['null', true]]);
  const v = await put('/v1/AUTH_test/later/o', 'versioned');
  const rows = await versions('later');
  assert.is(rows.length, 2);
  assert.equal(rows[0]?.version_id, v);
  assert.is((await c.request('GET', `/v1/AUTH_test/later/o?version-id=${rows[1]?.version_id}`)).body.toString(), 'plain');
  assert.is((await c.request('GET', '/v1/AUTH_test/later/o?version-id=null')).status, 404, 'the current object has a real id now');
});

test('bad version requests get Swift\'s 400s; object versioning is refused on a legacy-versioned container', async () => {
  await newContainer('bad');
  await put('/v1/AUTH_test/bad/o', 'x');
  const cases: [string, string, string][] = [
    ['POST', '/v1/AUTH_test/bad/o?version-id=1700000000.00000', 'POST to a specific version is not allowed'],
    ['GET', '/v1/AUTH_test/bad/o?version-id=yesterday', 'Invalid version parameter'],
  ];
  for (const [method, path, body] of cases) {
    const res = await c.request(method, path);
    assert.is(res.status, 400, `${method} ${path}`);
    assert.is(res.body.toString(), body);
  }
  assert.is((await c.request('PUT', '/v1/AUTH_test/plain')).status, 201);
  const unversioned = await c.request('GET', '/v1/AUTH_test/plain/o?version-id=1700000000.00000');
  assert.is(unversioned.status, 400);
  assert.is(unversioned.body.toString(), 'version-aware operations require that the container is versioned');
  assert.is((await c.request('PUT', '/v1/AUTH_test/legacy', { 'X-Versions-Location': 'plain' })).status, 201);
  const both = await c.request('POST', '/v1/AUTH_test/legacy', { 'X-Versions-Enabled': 'true' });
  assert.is(both.status, 400);
  assert.is(both.body.toString(), 'Cannot enable object versioning on a container that is already using the legacy versioned writes feature.');
});

test('a versioned container is deleted only once every version is; its hidden container goes with it', async () => {
  await newContainer('doomed');
  const v1 = await put('/v1/AUTH_test/doomed/o', 'data');
  assert.is((await c.request('DELETE', '/v1/AUTH_test/doomed/o')).status, 204);
  const refused = await c.request('DELETE', '/v1/AUTH_test/doomed');
  assert.is(refused.status, 409);
  assert.is(refused.body.toString(), 'Delete all versions before deleting container.');
  for (const row of await versions('doomed')) assert.is((await c.request('DELETE', `/v1/AUTH_test/doomed/o?version-id=${row.version_id}`)).status, 204);
  assert.is((await c.request('GET', `/v1/AUTH_test/doomed/o?version-id=${v1}`)).status, 404);
  assert.is((await c.request('DELETE', '/v1/AUTH_test/doomed')).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/doomed')).status, 404);
  // Making it again starts with no versions at all.
  await newContainer('doomed');
  assert.equal(await versions('doomed'), []);
});

test('/info announces object versioning', async () => {
  const info = JSON.parse((await c.request('GET', '/info')).body.toString());
  assert.equal(info.object_versioning, {});
});

test.run();
