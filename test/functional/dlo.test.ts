import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../common/logger.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

// Dynamic large objects through a whole cluster: segments in one container, a manifest in
// another, read back as one object.

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');
const A = '/v1/AUTH_test';

let c: TestCluster;
const logs: string[] = [];
const seg = [Buffer.from('aaaaa'), Buffer.from('bbbbbb'), Buffer.from('ccccccc')];
const whole = Buffer.concat(seg);
const dloEtag = `"${md5(seg.map((s) => md5(s)).join(''))}"`;

test.before(async () => {
  c = await startCluster({ logger: createLogger({ level: 'error', sink: (line) => logs.push(line) }) });
  assert.is((await c.request('PUT', `${A}/dlo`)).status, 201);
  assert.is((await c.request('PUT', `${A}/dlo_segments`)).status, 201);
  for (const [i, data] of seg.entries()) {
    assert.is((await c.request('PUT', `${A}/dlo_segments/big/${String(i).padStart(8, '0')}`, {}, data)).status, 201);
  }
  // A segment under another prefix is not part of the object.
  assert.is((await c.request('PUT', `${A}/dlo_segments/bigger/00000000`, {}, 'zzz')).status, 201);
  const put = await c.request('PUT', `${A}/dlo/big`, { 'X-Object-Manifest': 'dlo_segments/big/', 'Content-Type': 'application/x-big' }, '');
  assert.is(put.status, 201);
});

test.after(async () => {
  await c.close();
});

test('GET concatenates the segments in name order, with length and the DLO etag', async () => {
  const res = await c.request('GET', `${A}/dlo/big`);
  assert.is(res.status, 200);
  assert.ok(res.body.equals(whole));
  assert.is(res.headers['content-length'], String(whole.length));
  assert.is(res.headers['etag'], dloEtag);
  assert.is(res.headers['x-object-manifest'], 'dlo_segments/big/');
  assert.is(res.headers['content-type'], 'application/x-big');
});

test('HEAD shows the total size, the etag and the manifest header', async () => {
  const res = await c.request('HEAD', `${A}/dlo/big`);
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], String(whole.length));
  assert.is(res.headers['etag'], dloEtag);
  assert.is(res.headers['x-object-manifest'], 'dlo_segments/big/');
});

test('a single range across segment boundaries', async () => {
  const res = await c.request('GET', `${A}/dlo/big`, { Range: 'bytes=3-12' });
  assert.is(res.status, 206);
  assert.is(res.body.toString(), whole.subarray(3, 13).toString());
  assert.is(res.headers['content-range'], `bytes 3-12/${whole.length}`);
  const suffix = await c.request('GET', `${A}/dlo/big`, { Range: 'bytes=-4' });
  assert.is(suffix.status, 206);
  assert.is(suffix.body.toString(), 'cccc');
  const open = await c.request('GET', `${A}/dlo/big`, { Range: 'bytes=10-' });
  assert.is(open.body.toString(), whole.subarray(10).toString());
});

test('regression (several ranges were a multipart 206): a DLO serves one range only; several get the whole object, 200, as Swift\'s DLO answers', async () => {
  const res = await c.request('GET', `${A}/dlo/big`, { Range: 'bytes=0-1,6-8,-2' });
  assert.is(res.status, 200);
  assert.ok(res.body.equals(whole));
  assert.is(res.headers['content-length'], String(whole.length));
  assert.is(res.headers['content-range'], undefined);
});

test('an unsatisfiable range is a 416 with the whole size', async () => {
  const res = await c.request('GET', `${A}/dlo/big`, { Range: 'bytes=100-200' });
  assert.is(res.status, 416);
  assert.is(res.headers['content-range'], `bytes */${whole.length}`);
});

test('conditional requests compare with the DLO etag', async () => {
  assert.is((await c.request('GET', `${A}/dlo/big`, { 'If-None-Match': dloEtag })).status, 304);
  assert.is((await c.request('GET', `${A}/dlo/big`, { 'If-Match': dloEtag })).status, 200);
  assert.is((await c.request('GET', `${A}/dlo/big`, { 'If-Match': '"nope"' })).status, 412);
  assert.is((await c.request('HEAD', `${A}/dlo/big`, { 'If-Match': dloEtag })).status, 200);
  // The manifest object's own etag is not the large object's.
  assert.is((await c.request('GET', `${A}/dlo/big`, { 'If-None-Match': md5('') })).status, 200);
});

test('?multipart-manifest=get returns the manifest object itself', async () => {
  const res = await c.request('GET', `${A}/dlo/big?multipart-manifest=get`);
  assert.is(res.status, 200);
  assert.is(res.body.length, 0);
  assert.is(res.headers['etag'], md5(''));
  assert.is(res.headers['x-object-manifest'], 'dlo_segments/big/');
});

test('the listing shows the manifest with 0 bytes', async () => {
  const res = await c.request('GET', `${A}/dlo?format=json`);
  const rows = JSON.parse(res.body.toString()) as { name: string; bytes: number }[];
  assert.equal(rows.map((r) => [r.name, r.bytes]), [['big', 0]]);
});

test('a PUT with a malformed X-Object-Manifest is a 400 and stores nothing', async () => {
  for (const value of ['nocontainer', 'c/', '/prefix', 'c//prefix', 'c/p?x', 'c/p&x']) {
    const res = await c.request('PUT', `${A}/dlo/bad`, { 'X-Object-Manifest': value }, '');
    assert.is(res.status, 400, value);
    assert.is(res.body.toString(), 'X-Object-Manifest must be in the format container/prefix');
  }
  assert.is((await c.request('HEAD', `${A}/dlo/bad`)).status, 404);
});

test('a manifest whose prefix matches nothing is an empty object', async () => {
  assert.is((await c.request('PUT', `${A}/dlo/empty`, { 'X-Object-Manifest': 'dlo_segments/none/' }, '')).status, 201);
  const res = await c.request('GET', `${A}/dlo/empty`);
  assert.is(res.status, 200);
  assert.is(res.body.length, 0);
  assert.is(res.headers['etag'], `"${md5('')}"`);
});

test('a manifest pointing at a missing container answers 404', async () => {
  assert.is((await c.request('PUT', `${A}/dlo/nowhere`, { 'X-Object-Manifest': 'no_such_container/x' }, '')).status, 201);
  assert.is((await c.request('GET', `${A}/dlo/nowhere`)).status, 404);
  assert.is((await c.request('HEAD', `${A}/dlo/nowhere`)).status, 404);
});

/**
 * Overwrites an object on its object servers only, as if the container listing had not caught
 * up yet: the listing still promises the old etag.
 */
async function replaceBehindTheListing(name: string, data: string): Promise<void> {
  const { httpRequest } = await import('../helpers/http.ts');
  const { partition, nodes } = c.rings.object.getNodes('AUTH_test', 'dlo_segments', name);
  const ts = (Date.now() / 1000 + 1).toFixed(5);
  for (const node of nodes) {
    const res = await httpRequest(node.port, 'PUT', `/${node.device}/${partition}/AUTH_test/dlo_segments/${name}`, { 'X-Timestamp': ts, 'Content-Type': 'text/plain', 'Content-Length': String(data.length) }, data);
    assert.is(res.status, 201);
  }
}

test('a first segment changed since the listing is a 409, not other bytes', async () => {
  await c.request('PUT', `${A}/dlo_segments/chg/00000000`, {}, 'first');
  await c.request('PUT', `${A}/dlo_segments/chg/00000001`, {}, 'second');
  await c.request('PUT', `${A}/dlo/chg`, { 'X-Object-Manifest': 'dlo_segments/chg/' }, '');
  assert.is((await c.request('GET', `${A}/dlo/chg`)).body.toString(), 'firstsecond');
  await replaceBehindTheListing('chg/00000000', 'FIRST');
  assert.is((await c.request('GET', `${A}/dlo/chg`)).status, 409);
  assert.ok(logs.some((l) => l.includes('/dlo/chg') && l.includes('Object segment no longer valid')));
});

test('a later segment changed since the listing cuts the body short', async () => {
  await c.request('PUT', `${A}/dlo_segments/cut/00000000`, {}, 'first');
  await c.request('PUT', `${A}/dlo_segments/cut/00000001`, {}, 'second');
  await c.request('PUT', `${A}/dlo/cut`, { 'X-Object-Manifest': 'dlo_segments/cut/' }, '');
  await replaceBehindTheListing('cut/00000001', 'SECOND');
  const res = await c.request('GET', `${A}/dlo/cut`);
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], '11');
  assert.ok(res.error !== undefined, 'the connection must break');
  assert.is(res.body.toString(), 'first');
});

test('many segments (more than the rate-limit-free 10) still read whole', async () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const data = Buffer.from(`part-${i};`);
    parts.push(data);
    await c.request('PUT', `${A}/dlo_segments/many/${String(i).padStart(4, '0')}`, {}, data);
  }
  await c.request('PUT', `${A}/dlo/many`, { 'X-Object-Manifest': 'dlo_segments/many/' }, '');
  const res = await c.request('GET', `${A}/dlo/many`);
  assert.is(res.status, 200);
  assert.ok(res.body.equals(Buffer.concat(parts)));
});

test('regression (non-ASCII container names in X-Object-Manifest gave 404): a manifest and segments in UTF-8-named containers read, head and copy whole, also when the header carries raw UTF-8 bytes', async () => {
  const segments = '\u2603 segs';
  const manifests = 'm\u00e4nifests';
  const q = encodeURIComponent;
  assert.is((await c.request('PUT', `${A}/${q(segments)}`)).status, 201);
  assert.is((await c.request('PUT', `${A}/${q(manifests)}`)).status, 201);
  for (const [i, data] of ['one-', 'two-', 'three'].entries()) assert.is((await c.request('PUT', `${A}/${q(segments)}/${q(`p\u00e9/${i}`)}`, {}, data)).status, 201);
  // One manifest percent-encodes the header, the other sends its UTF-8 bytes as they are.
  assert.is((await c.request('PUT', `${A}/${q(manifests)}/quoted`, { 'X-Object-Manifest': `${q(segments)}/${q('p\u00e9/')}` }, '')).status, 201);
  assert.is((await c.request('PUT', `${A}/${q(manifests)}/raw`, { 'X-Object-Manifest': Buffer.from(`${segments}/p\u00e9/`).toString('latin1') }, '')).status, 201);
  for (const name of ['quoted', 'raw']) {
    const get = await c.request('GET', `${A}/${q(manifests)}/${name}`);
    assert.is(get.status, 200, name);
    assert.is(get.body.toString(), 'one-two-three', name);
    assert.is((await c.request('HEAD', `${A}/${q(manifests)}/${name}`)).headers['content-length'], '13', name);
    assert.is((await c.request('GET', `${A}/${q(manifests)}/${name}`, { Range: 'bytes=4-6' })).body.toString(), 'two', name);
  }
  const copy = await c.request('COPY', `${A}/${q(manifests)}/raw`, { Destination: `${q(manifests)}/copied` });
  assert.is(copy.status, 201);
  assert.is((await c.request('GET', `${A}/${q(manifests)}/copied`)).body.toString(), 'one-two-three');
});

test('regression (a segment container readable by a Referer ACL refused the manifest read): the client\'s Referer goes with the listing and segment reads, so the DLO reads exactly when both containers admit the referrer', async () => {
  assert.is((await c.request('PUT', `${A}/ref_manifests`)).status, 201);
  assert.is((await c.request('PUT', `${A}/ref_segments`)).status, 201);
  assert.is((await c.request('PUT', `${A}/ref_segments/s/1`, {}, 'ref-read')).status, 201);
  assert.is((await c.request('PUT', `${A}/ref_manifests/m`, { 'X-Object-Manifest': 'ref_segments/s/' }, '')).status, 201);
  const reader = { 'X-Auth-Token': await c.token('test:tester3'), Referer: 'http://blah.example.com' };
  const acl = { 'X-Container-Read': '.r:*.example.com,.rlistings' };
  assert.is((await c.request('GET', `${A}/ref_manifests/m`, reader)).status, 403);
  assert.is((await c.request('POST', `${A}/ref_manifests`, acl)).status, 204);
  assert.is((await c.request('GET', `${A}/ref_manifests/m`, reader)).status, 403, 'the segment container still refuses the referrer');
  assert.is((await c.request('POST', `${A}/ref_segments`, acl)).status, 204);
  const ok = await c.request('GET', `${A}/ref_manifests/m`, reader);
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'ref-read');
  assert.is((await c.request('GET', `${A}/ref_manifests/m`, { 'X-Auth-Token': reader['X-Auth-Token'], Referer: 'http://elsewhere.org' })).status, 403);
});

test.run();
