import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../common/logger.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

// Static large objects through a whole cluster: manifests written with
// ?multipart-manifest=put, read, listed, ranged, nested, and deleted with their segments.

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');
const A = '/v1/AUTH_test';

let c: TestCluster;
const logs: string[] = [];
const seg = { a: Buffer.from('A'.repeat(10)), b: Buffer.from('B'.repeat(20)), c: Buffer.from('C'.repeat(5)) };
const whole = Buffer.concat([seg.a, seg.b, seg.c]);
const sloEtag = md5(md5(seg.a) + md5(seg.b) + md5(seg.c));
const manifest = JSON.stringify([
  { path: '/segs/a', etag: md5(seg.a), size_bytes: 10 },
  { path: '/segs/b', etag: md5(seg.b), size_bytes: 20 },
  { path: 'segs/c', etag: null, size_bytes: null },
]);

async function putManifest(name: string, body: string, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<TestCluster['request']>>> {
  return c.request('PUT', `${A}/slo/${name}?multipart-manifest=put`, headers, body);
}

test.before(async () => {
  c = await startCluster({ logger: createLogger({ level: 'error', sink: (line) => logs.push(line) }) });
  for (const container of ['slo', 'segs']) assert.is((await c.request('PUT', `${A}/${container}`)).status, 201);
  for (const [name, data] of Object.entries(seg)) assert.is((await c.request('PUT', `${A}/segs/${name}`, {}, data)).status, 201);
  const put = await putManifest('big.bin', manifest, { 'X-Object-Meta-Color': 'blue' });
  assert.is(put.status, 201, put.body.toString());
  assert.is(put.headers['etag'], `"${sloEtag}"`);
});

test.after(async () => {
  await c.close();
});

test('GET streams the segments, with the total size and the SLO etag', async () => {
  const res = await c.request('GET', `${A}/slo/big.bin`);
  assert.is(res.status, 200);
  assert.ok(res.body.equals(whole));
  assert.is(res.headers['content-length'], String(whole.length));
  assert.is(res.headers['etag'], `"${sloEtag}"`);
  assert.is(res.headers['x-static-large-object'], 'True');
  assert.is(res.headers['content-type'], 'application/octet-stream');
  assert.is(res.headers['x-object-meta-color'], 'blue');
  assert.is(res.headers['accept-ranges'], 'bytes');
  assert.not.ok(Object.keys(res.headers).some((h) => h.startsWith('x-object-sysmeta-')), 'sysmeta stays inside');
});

test('HEAD answers from the manifest metadata', async () => {
  const res = await c.request('HEAD', `${A}/slo/big.bin`);
  assert.is(res.status, 200);
  assert.is(res.headers['content-length'], String(whole.length));
  assert.is(res.headers['etag'], `"${sloEtag}"`);
  assert.is(res.headers['x-static-large-object'], 'True');
  assert.ok(/^[0-9a-f]{32}$/.test(res.headers['x-manifest-etag'] ?? ''));
});

test('container listings show the total size, the manifest hash and the slo_etag', async () => {
  const res = await c.request('GET', `${A}/slo?format=json`);
  const rows = JSON.parse(res.body.toString()) as Record<string, unknown>[];
  const row = rows.find((r) => r['name'] === 'big.bin');
  assert.ok(row);
  assert.is(row['bytes'], whole.length);
  assert.is(row['content_type'], 'application/octet-stream');
  assert.is(row['slo_etag'], `"${sloEtag}"`);
  const head = await c.request('HEAD', `${A}/slo/big.bin`);
  assert.is(row['hash'], head.headers['x-manifest-etag']);
  assert.is(Number(res.headers['content-length']), res.body.length);
  const xml = (await c.request('GET', `${A}/slo?format=xml`)).body.toString();
  assert.ok(xml.includes(`<hash>${row['hash'] as string}</hash><bytes>${whole.length}</bytes>`), xml);
  assert.ok(xml.includes(`<slo_etag>"${sloEtag}"</slo_etag>`), xml);
});

test('ranges: single, suffix, across segments, multipart, unsatisfiable', async () => {
  const single = await c.request('GET', `${A}/slo/big.bin`, { Range: 'bytes=8-12' });
  assert.is(single.status, 206);
  assert.is(single.body.toString(), 'AABBB');
  assert.is(single.headers['content-range'], 'bytes 8-12/35');
  assert.is(single.headers['etag'], `"${sloEtag}"`);
  assert.is((await c.request('GET', `${A}/slo/big.bin`, { Range: 'bytes=-7' })).body.toString(), 'BBCCCCC');
  const multi = await c.request('GET', `${A}/slo/big.bin`, { Range: 'bytes=0-0,29-31' });
  assert.is(multi.status, 206);
  const b = /boundary=(\w+)/.exec(multi.headers['content-type'] ?? '')?.[1];
  assert.ok(b);
  assert.is(multi.body.toString(), `--${b}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-0/35\r\n\r\nA\r\n--${b}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 29-31/35\r\n\r\nBCC\r\n--${b}--`);
  const none = await c.request('GET', `${A}/slo/big.bin`, { Range: 'bytes=35-' });
  assert.is(none.status, 416);
  assert.is(none.headers['content-range'], 'bytes */35');
  // A range past the manifest's own (JSON) length but inside the large object.
  const far = await c.request('GET', `${A}/slo/big.bin`, { Range: 'bytes=34-34' });
  assert.is(far.status, 206);
  assert.is(far.body.toString(), 'C');
});

test('conditional requests compare with the SLO etag', async () => {
  assert.is((await c.request('GET', `${A}/slo/big.bin`, { 'If-None-Match': `"${sloEtag}"` })).status, 304);
  assert.is((await c.request('HEAD', `${A}/slo/big.bin`, { 'If-None-Match': sloEtag })).status, 304);
  const match = await c.request('GET', `${A}/slo/big.bin`, { 'If-Match': `"${sloEtag}"` });
  assert.is(match.status, 200);
  assert.ok(match.body.equals(whole));
  assert.is((await c.request('GET', `${A}/slo/big.bin`, { 'If-Match': '"other"' })).status, 412);
  assert.is((await c.request('GET', `${A}/slo/big.bin`, { 'If-Modified-Since': 'Tue, 01 Jan 2999 00:00:00 GMT' })).status, 304);
});

test('?multipart-manifest=get returns the stored manifest; &format=raw the put form', async () => {
  const res = await c.request('GET', `${A}/slo/big.bin?multipart-manifest=get`);
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.is(res.headers['etag'], md5(res.body));
  const stored = JSON.parse(res.body.toString()) as Record<string, unknown>[];
  assert.equal(stored.map((s) => [s['name'], s['bytes'], s['hash'], s['content_type']]), [
    ['/segs/a', 10, md5(seg.a), 'application/octet-stream'],
    ['/segs/b', 20, md5(seg.b), 'application/octet-stream'],
    ['/segs/c', 5, md5(seg.c), 'application/octet-stream'],
  ]);
  assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/.test(String(stored[0]?.['last_modified'])));
  const raw = await c.request('GET', `${A}/slo/big.bin?multipart-manifest=get&format=raw`);
  assert.is(raw.headers['content-type'], 'application/octet-stream');
  assert.is(raw.headers['etag'], md5(raw.body));
  assert.is(raw.body.toString(), `[{"etag": "${md5(seg.a)}", "path": "/segs/a", "size_bytes": 10}, {"etag": "${md5(seg.b)}", "path": "/segs/b", "size_bytes": 20}, {"etag": "${md5(seg.c)}", "path": "/segs/c", "size_bytes": 5}]`);
  // The raw form is a valid manifest again.
  const again = await putManifest('again.bin', raw.body.toString());
  assert.is(again.status, 201);
  assert.is(again.headers['etag'], `"${sloEtag}"`);
});

test('ranged segments and inline data segments', async () => {
  const body = JSON.stringify([{ path: '/segs/b', range: '2-4' }, { data: Buffer.from('xyz').toString('base64') }, { path: '/segs/c', range: '-2' }, { path: '/segs/a', range: '0-' }]);
  const put = await putManifest('mixed', body, { 'Content-Type': 'text/x-mixed' });
  assert.is(put.status, 201, put.body.toString());
  const etag = md5(`${md5(seg.b)}:2-4;${md5('xyz')}${md5(seg.c)}:3-4;${md5(seg.a)}`);
  assert.is(put.headers['etag'], `"${etag}"`);
  const res = await c.request('GET', `${A}/slo/mixed`);
  assert.is(res.body.toString(), `BBBxyzCC${'A'.repeat(10)}`);
  assert.is(res.headers['content-length'], '18');
  assert.is(res.headers['content-type'], 'text/x-mixed');
  assert.is((await c.request('GET', `${A}/slo/mixed`, { Range: 'bytes=2-6' })).body.toString(), 'BxyzC');
  const stored = JSON.parse((await c.request('GET', `${A}/slo/mixed?multipart-manifest=get`)).body.toString()) as Record<string, unknown>[];
  assert.is(stored[0]?.['range'], '2-4');
  assert.is(stored[2]?.['range'], '3-4');
  assert.not.ok('range' in (stored[3] ?? {}), 'a range of the whole object is dropped');
  const listing = JSON.parse((await c.request('GET', `${A}/slo?format=json&prefix=mixed`)).body.toString()) as Record<string, unknown>[];
  assert.is(listing[0]?.['bytes'], 18);
  assert.is(listing[0]?.['content_type'], 'text/x-mixed');
});

test('nested SLOs: a manifest of manifests reads through, ranges included', async () => {
  const inner = await c.request('HEAD', `${A}/slo/big.bin`);
  const body = JSON.stringify([
    { path: '/slo/big.bin', etag: sloEtag, size_bytes: whole.length },
    { path: '/segs/c', etag: md5(seg.c), size_bytes: 5 },
    { path: '/slo/big.bin', range: '5-14' },
  ]);
  assert.is(inner.status, 200);
  const put = await putManifest('nested', body);
  assert.is(put.status, 201, put.body.toString());
  const expected = Buffer.concat([whole, seg.c, whole.subarray(5, 15)]);
  const res = await c.request('GET', `${A}/slo/nested`);
  assert.ok(res.body.equals(expected), res.body.toString());
  assert.is(res.headers['content-length'], String(expected.length));
  assert.is((await c.request('GET', `${A}/slo/nested`, { Range: 'bytes=28-47' })).body.toString(), expected.subarray(28, 48).toString());
  const stored = JSON.parse((await c.request('GET', `${A}/slo/nested?multipart-manifest=get`)).body.toString()) as Record<string, unknown>[];
  assert.is(stored[0]?.['sub_slo'], true);
  assert.is(stored[0]?.['bytes'], whole.length);
  assert.is(stored[0]?.['hash'], sloEtag);
});

test('bad manifests are refused with Swift\'s messages and nothing is stored', async () => {
  const cases: [string, string, number, string][] = [
    ['not json', '{oops', 400, 'Manifest must be valid JSON.\n'],
    ['not a list', '{}', 400, 'Manifest must be a list.\n'],
    ['not objects', '[1]', 400, 'Index 0: not a JSON object\n'],
    ['no path', '[{"etag": "x"}]', 400, `Index 0: expected keys to include one of 'data' or 'path'\n`],
    ['extra keys', '[{"path": "/segs/a", "zz": 1, "aa": 2}]', 400, 'Index 0: extraneous keys "aa", "zz"\n'],
    ['no object', '[{"path": "/segs"}]', 400, 'Index 0: path does not refer to an object. Path must be of the form /container/object.\n'],
    ['bad size', '[{"path": "/segs/a", "size_bytes": "ten"}]', 400, 'Index 0: invalid size_bytes\n'],
    ['empty middle', '[{"path": "/segs/a", "size_bytes": 0}, {"path": "/segs/b"}]', 400, 'Index 0: too small; each segment must be at least 1 byte.\n'],
    ['bad range', '[{"path": "/segs/a", "range": "x-y"}]', 400, 'Index 0: invalid range\n'],
    ['two ranges', '[{"path": "/segs/a", "range": "0-1,3-4"}]', 400, 'Index 0: multiple ranges (only one allowed)\n'],
    ['bad data', '[{"data": "!!!"}, {"path": "/segs/a"}]', 400, 'Index 0: data must be valid base64\n'],
    ['only data', '[{"data": "eHl6"}]', 400, 'Inline data segments require at least one object-backed segment.\n'],
    ['itself', '[{"path": "/slo/bad"}]', 400, 'Index 0: manifest must not include itself as a segment\n'],
    ['missing segment', '[{"path": "/segs/nope"}, {"path": "/segs/a"}]', 400, 'Errors:\n/segs/nope, 404 Not Found\n'],
    ['etag mismatch', `[{"path": "/segs/a", "etag": "${md5('x')}"}]`, 400, 'Errors:\n/segs/a, Etag Mismatch\n'],
    ['size mismatch', '[{"path": "/segs/a", "size_bytes": 11}]', 400, 'Errors:\n/segs/a, Size Mismatch\n'],
    ['range past end', '[{"path": "/segs/a", "range": "10-20"}]', 400, 'Errors:\n/segs/a, Unsatisfiable Range\n'],
    ['missing container', '[{"path": "/nocontainer/x"}]', 400, 'Errors:\n/nocontainer/x, 404 Not Found\n'],
  ];
  for (const [what, body, status, message] of cases) {
    const res = await putManifest('bad', body);
    assert.is(res.status, status, what);
    assert.is(res.body.toString(), message, what);
    assert.is((await c.request('HEAD', `${A}/slo/bad`)).status, 404, what);
  }
  const several = await putManifest('bad', JSON.stringify([{ path: '/segs/a', size_bytes: 1 }, { path: '/segs/zz' }]), { Accept: 'application/json' });
  assert.is(several.status, 400);
  assert.is(several.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(several.body.toString()), { Errors: [['/segs/a', 'Size Mismatch'], ['/segs/zz', '404 Not Found']] });
  assert.is((await c.request('HEAD', `${A}/slo/bad`)).status, 404);
});

test('limits: segment count and manifest size are 413s; a wrong client Etag is a 422', async () => {
  const many = JSON.stringify(Array.from({ length: 1001 }, () => ({ path: '/segs/a' })));
  const tooMany = await putManifest('bad', many);
  assert.is(tooMany.status, 413);
  assert.is(tooMany.body.toString(), 'Number of object-backed segments must be <= 1000');
  const huge = await putManifest('bad', ' '.repeat(8 * 1024 * 1024 + 1));
  assert.is(huge.status, 413);
  assert.is(huge.body.toString(), `Manifest File > ${8 * 1024 * 1024} bytes`);
  assert.is((await putManifest('bad', manifest, { Etag: md5('nope') })).status, 422);
  assert.is((await c.request('HEAD', `${A}/slo/bad`)).status, 404);
  const right = await putManifest('etagged', manifest, { Etag: `"${sloEtag}"` });
  assert.is(right.status, 201);
});

test('X-Static-Large-Object is reserved for manifests this middleware writes', async () => {
  const res = await c.request('PUT', `${A}/slo/fake`, { 'X-Static-Large-Object': 'True' }, '[]');
  assert.is(res.status, 400);
  assert.ok(res.body.toString().startsWith('X-Static-Large-Object is a reserved header.'));
  const post = await c.request('POST', `${A}/slo/big.bin`, { 'X-Static-Large-Object': 'False' });
  assert.is(post.status, 400);
  assert.is((await c.request('HEAD', `${A}/slo/fake`)).status, 404);
});

test('heartbeat=on answers 202 at once and the result in the body', async () => {
  const res = await c.request('PUT', `${A}/slo/beat?multipart-manifest=put&heartbeat=on`, { Accept: 'application/json' }, manifest);
  assert.is(res.status, 202);
  const text = res.body.toString();
  assert.ok(text.startsWith(' '));
  const result = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  assert.is(result['Response Status'], '201 Created');
  assert.is(result['Etag'], `"${sloEtag}"`);
  assert.equal(result['Errors'], []);
  assert.is((await c.request('HEAD', `${A}/slo/beat`)).headers['etag'], `"${sloEtag}"`);
  const bad = await c.request('PUT', `${A}/slo/beat2?multipart-manifest=put&heartbeat=on`, {}, '[{"path": "/segs/nope"}]');
  assert.is(bad.status, 202);
  assert.ok(bad.body.toString().endsWith('Errors:\n/segs/nope, 404 Not Found\n'), bad.body.toString());
  assert.ok(bad.body.toString().includes('Response Status: 400 Bad Request\n'));
});

test('a segment deleted after the manifest was written: 409 before any byte', async () => {
  await c.request('PUT', `${A}/segs/gone`, {}, 'soon gone');
  assert.is((await putManifest('broken', '[{"path": "/segs/gone"}, {"path": "/segs/a"}]')).status, 201);
  assert.is((await c.request('DELETE', `${A}/segs/gone`)).status, 204);
  const res = await c.request('GET', `${A}/slo/broken`);
  assert.is(res.status, 409);
  assert.ok(logs.some((l) => l.includes('/slo/broken') && l.includes('404')));
  // The part that is still there can be read on its own.
  assert.is((await c.request('GET', `${A}/slo/broken`, { Range: 'bytes=9-' })).body.toString(), seg.a.toString());
});

test('a plain DELETE removes only the manifest', async () => {
  assert.is((await putManifest('plain-delete', manifest)).status, 201);
  assert.is((await c.request('DELETE', `${A}/slo/plain-delete`)).status, 204);
  assert.is((await c.request('HEAD', `${A}/segs/a`)).status, 200);
});

test('?multipart-manifest=delete removes the segments (nested too) and the manifest', async () => {
  await c.request('PUT', `${A}/segs/d1`, {}, 'one');
  await c.request('PUT', `${A}/segs/d2`, {}, 'two');
  await c.request('PUT', `${A}/segs/d3`, {}, 'three');
  assert.is((await putManifest('inner-del', '[{"path": "/segs/d1"}, {"path": "/segs/d2"}]')).status, 201);
  assert.is((await putManifest('outer-del', '[{"path": "/slo/inner-del"}, {"path": "/segs/d3"}, {"data": "eA=="}]')).status, 201);
  const res = await c.request('DELETE', `${A}/slo/outer-del?multipart-manifest=delete`);
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'text/plain');
  assert.is(res.body.toString(), 'Number Deleted: 5\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');
  for (const name of ['segs/d1', 'segs/d2', 'segs/d3', 'slo/inner-del', 'slo/outer-del']) {
    assert.is((await c.request('HEAD', `${A}/${name}`)).status, 404, name);
  }
  const missing = await c.request('DELETE', `${A}/slo/outer-del?multipart-manifest=delete`, { Accept: 'application/json' });
  assert.is(missing.status, 200);
  assert.equal(JSON.parse(missing.body.toString()), { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 1, Errors: [] });
  await c.request('PUT', `${A}/slo/not-a-manifest`, {}, 'plain');
  const plain = await c.request('DELETE', `${A}/slo/not-a-manifest?multipart-manifest=delete`, { Accept: 'application/json' });
  assert.equal(JSON.parse(plain.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [['/slo/not-a-manifest', 'Not an SLO manifest']] });
  assert.is((await c.request('HEAD', `${A}/slo/not-a-manifest`)).status, 200);
  const xml = await c.request('DELETE', `${A}/slo/nothing?multipart-manifest=delete`, { Accept: 'application/xml' });
  assert.is(xml.body.toString(), '<delete>\n<number_deleted>0</number_deleted>\n<number_not_found>1</number_not_found>\n<response_body></response_body>\n<response_status>200 OK</response_status>\n<errors>\n</errors>\n</delete>\n');
});

test('/info lists the slo limits', async () => {
  const info = JSON.parse((await c.request('GET', '/info', { 'X-Auth-Token': '' })).body.toString()) as Record<string, Record<string, unknown>>;
  assert.equal(info['slo'], { max_manifest_segments: 1000, max_manifest_size: 8388608, yield_frequency: 10, min_segment_size: 1, allow_async_delete: false });
  assert.ok(info['dlo']);
});

test('regression (the manifest read of a referrer-admitted SLO was refused, 403): the client\'s Referer goes with the manifest and segment reads; a segment container that refuses the referrer is a 409, as in Swift', async () => {
  for (const container of ['ref_slo', 'ref_segs']) assert.is((await c.request('PUT', `${A}/${container}`)).status, 201);
  assert.is((await c.request('PUT', `${A}/ref_segs/s1`, {}, 'referred')).status, 201);
  assert.is((await c.request('PUT', `${A}/ref_slo/m?multipart-manifest=put`, {}, JSON.stringify([{ path: '/ref_segs/s1' }]))).status, 201);
  const reader = { 'X-Auth-Token': await c.token('test:tester3'), Referer: 'http://blah.example.com' };
  const acl = { 'X-Container-Read': '.r:*.example.com,.rlistings' };
  assert.is((await c.request('GET', `${A}/ref_slo/m`, reader)).status, 403);
  assert.is((await c.request('POST', `${A}/ref_slo`, acl)).status, 204);
  assert.is((await c.request('GET', `${A}/ref_slo/m`, reader)).status, 409, 'the manifest is readable, its segment is not');
  assert.is((await c.request('POST', `${A}/ref_segs`, acl)).status, 204);
  const ok = await c.request('GET', `${A}/ref_slo/m`, reader);
  assert.is(ok.status, 200);
  assert.is(ok.body.toString(), 'referred');
});

test('regression (If-None-Match on a manifest PUT was ignored): only * is taken (400 otherwise), and * refuses a manifest that exists (412)', async () => {
  const body = JSON.stringify([{ path: '/segs/a' }]);
  const bad = await c.request('PUT', `${A}/slo/inm?multipart-manifest=put`, { 'If-None-Match': '"not-star"' }, body);
  assert.is(bad.status, 400);
  assert.is((await c.request('PUT', `${A}/slo/inm?multipart-manifest=put`, { 'If-None-Match': '*' }, body)).status, 201);
  assert.is((await c.request('PUT', `${A}/slo/inm?multipart-manifest=put`, { 'If-None-Match': '*' }, body)).status, 412);
});

test.run();
