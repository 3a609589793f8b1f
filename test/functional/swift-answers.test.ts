import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { rawExchange } from '../helpers/http.ts';

/**
 * Answers that differed from Swift 2.30's (issue 15), each checked the way a client sees it;
 * every expectation here was taken from a real Swift 2.30.1 cluster given the same request.
 */

let c: TestCluster;
test.before(async () => {
  c = await startCluster();
  await c.request('PUT', '/v1/AUTH_test/answers');
});
test.after(async () => {
  await c.close();
});

const HTML = 'text/html; charset=UTF-8';

/** A raw request with the test user's token; the reply's status line, headers (lower-case) and body. */
async function raw(head: string, body = ''): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const token = await c.token();
  const wire = await rawExchange(c.port, `${head}\r\nHost: x\r\nX-Auth-Token: ${token}\r\nConnection: close\r\n\r\n${body}`);
  const [top = '', rest = ''] = wire.split('\r\n\r\n', 2);
  const [status = '', ...lines] = top.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(status.split(' ')[1]), headers, body: rest };
}

test('regression (bad paths were 400 with our own text): /v1 and /v1/ have no controller (412 Bad URL), / and //v1/a do not split (404), an unknown version is a plain 400, as Swift answers', async () => {
  for (const path of ['/v1', '/v1/', '/v1/AUTH_test//o', '/nonsense']) {
    const res = await c.request('GET', path);
    assert.is(res.status, 412, path);
    assert.is(res.body.toString(), 'Bad URL', path);
    assert.is(res.headers['content-type'], HTML, path);
  }
  for (const path of ['/', '//v1/AUTH_test']) {
    const res = await c.request('GET', path);
    assert.is(res.status, 404, path);
    assert.match(res.body.toString(), /<h1>Not Found<\/h1>/);
  }
  const version = await c.request('GET', '/v2/AUTH_test');
  assert.is(version.status, 400);
  assert.match(version.body.toString(), /<h1>Bad Request<\/h1>/);
  // A slash where a container name would need one makes an object path: its container does not exist.
  assert.is((await c.request('PUT', '/v1/AUTH_test/no/such', {}, '')).status, 404);
  // A trailing slash after a container is the container itself.
  await c.request('PUT', '/v1/AUTH_test/answers/listed', {}, 'x');
  const listing = await c.request('GET', '/v1/AUTH_test/answers/');
  assert.is(listing.status, 200);
  assert.match(listing.body.toString(), /^listed$/m);
});

test('regression (a PUT with neither Content-Length nor chunking was a 400): it is 411, a list of transfer codings 501, as text/plain, and nothing is stored', async () => {
  const missing = await raw('PUT /v1/AUTH_test/answers/no-length HTTP/1.1');
  assert.is(missing.status, 411);
  assert.is(missing.body, 'Missing Content-Length header.');
  assert.is(missing.headers['content-type'], 'text/plain');
  // (tests.py sends the body as it is, not in chunks, so the HTTP parser fails on it as well.)
  const codings = await raw('PUT /v1/AUTH_test/answers/codings HTTP/1.1\r\nTransfer-Encoding: gzip,chunked', 'x'.repeat(100));
  assert.is(codings.status, 501);
  assert.is(codings.body, 'Unsupported Transfer-Coding header value specified in Transfer-Encoding header');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/answers/no-length')).status, 404);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/answers/codings')).status, 404);
});

test('regression (If-None-Match with an etag was taken as no condition): a PUT takes only If-None-Match: * (anything else 400), and * refuses an existing object (412)', async () => {
  const etag = await c.request('PUT', '/v1/AUTH_test/answers/inm', { 'If-None-Match': 'somethingelse' }, '');
  assert.is(etag.status, 400);
  assert.is(etag.body.toString(), 'If-None-Match only supports *');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/answers/inm')).status, 404);
  assert.is((await c.request('PUT', '/v1/AUTH_test/answers/inm', { 'If-None-Match': '*' }, '')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/answers/inm', { 'If-None-Match': '*' }, '')).status, 412);
});

test("regression (a client's out-of-range X-Timestamp was a 400): the gatekeeper sets it aside, so the write gets the proxy's own time", async () => {
  for (const given of ['99999999999.9999999999', '-1']) {
    const before = Date.now() / 1000;
    const put = await c.request('PUT', '/v1/AUTH_test/answers/stamped', { 'X-Timestamp': given }, '');
    assert.is(put.status, 201, given);
    const stored = Number((await c.request('HEAD', '/v1/AUTH_test/answers/stamped')).headers['x-timestamp']);
    assert.ok(stored >= before - 1 && stored <= Date.now() / 1000 + 1, `${given} gave ${stored}`);
  }
});

test('regression (an X-Delete-At of 100 digits was a 400): it is taken as 9999999999, as Swift normalizes it', async () => {
  const put = await c.request('PUT', '/v1/AUTH_test/answers/far', { 'X-Delete-At': '1'.repeat(100) }, '');
  assert.is(put.status, 201);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/answers/far')).headers['x-delete-at'], '9999999999');
});

test('regression (error and empty answers lacked Swift\'s Content-Type): a DELETE\'s 204, a POST\'s 202 and a too-long name\'s 400 are text/html; charset=UTF-8', async () => {
  await c.request('PUT', '/v1/AUTH_test/answers/typed', {}, 'x');
  const post = await c.request('POST', '/v1/AUTH_test/answers/typed', { 'X-Object-Meta-A': 'b' });
  assert.is(post.status, 202);
  assert.is(post.headers['content-type'], HTML);
  const del = await c.request('DELETE', '/v1/AUTH_test/answers/typed');
  assert.is(del.status, 204);
  assert.is(del.headers['content-type'], HTML);
  const long = await c.request('PUT', `/v1/AUTH_test/${'X'.repeat(2048)}`, {}, 'there');
  assert.is(long.status, 400);
  assert.is(long.body.toString(), 'Container name length of 2048 longer than 256');
  assert.is(long.headers['content-type'], HTML);
});

test('regression (416 answers lacked the object\'s headers): an unsatisfiable range answers with the object\'s ETag, type, Accept-Ranges and Content-Range: bytes */<length>', async () => {
  const put = await c.request('PUT', '/v1/AUTH_test/answers/ranged', { 'Content-Type': 'text/x-mine' }, 'hello');
  const res = await c.request('GET', '/v1/AUTH_test/answers/ranged', { Range: 'bytes=10-20' });
  assert.is(res.status, 416);
  assert.is(res.headers['etag'], put.headers['etag']);
  assert.is(res.headers['content-type'], 'text/x-mine');
  assert.is(res.headers['accept-ranges'], 'bytes');
  assert.is(res.headers['content-range'], 'bytes */5');
  assert.is(res.body.toString(), '<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>');
});

test('regression (delimiters of several characters were 412 "Bad delimiter"): container and account listings roll up at "-&"', async () => {
  await c.request('PUT', '/v1/AUTH_test/multi');
  for (const name of ['test', 'test-&bar', 'test-&foo', "test-'baz"]) await c.request('PUT', `/v1/AUTH_test/multi/${encodeURIComponent(name)}`, {}, '');
  const list = async (path: string): Promise<string> => (await c.request('GET', path)).body.toString();
  assert.is(await list('/v1/AUTH_test/multi?delimiter=-%26'), "test\ntest-&\ntest-'baz\n");
  assert.is(await list('/v1/AUTH_test/multi?delimiter=-%26&reverse=yes'), "test-'baz\ntest-&\ntest\n");
  for (const name of ['dl', 'dl-&a', 'dl-&b']) await c.request('PUT', `/v1/AUTH_test/${encodeURIComponent(name)}`);
  assert.is(await list('/v1/AUTH_test?prefix=dl&delimiter=-%26'), 'dl\ndl-&\n');
});

test('regression (a marker that is not UTF-8 listed as if it were U+FFFD): invalid UTF-8 in marker or end_marker is a 400 for containers and accounts', async () => {
  for (const path of ['/v1/AUTH_test/answers?marker=%FF', '/v1/AUTH_test/answers?end_marker=%FF%FE', '/v1/AUTH_test?marker=%FF', '/v1/AUTH_test?end_marker=%C3']) {
    const res = await c.request('GET', path);
    assert.is(res.status, 400, path);
    assert.match(res.body.toString(), /parameter not valid UTF-8/);
  }
});

test('regression (an empty X-Storage-Policy was a 400): the container gets the default policy', async () => {
  const put = await c.request('PUT', '/v1/AUTH_test/nopolicy', { 'X-Storage-Policy': '' });
  assert.is(put.status, 201);
  assert.ok((await c.request('HEAD', '/v1/AUTH_test/nopolicy')).headers['x-storage-policy']);
});

test('regression (UTF-8 names sent unquoted were 400 from the HTTP parser): a container and an object named in raw UTF-8 are created and listed; raw bytes that are not UTF-8 are 412, as Swift answers', async () => {
  const token = await c.token();
  const send = (line: Buffer, body = ''): Promise<string> =>
    rawExchange(c.port, Buffer.concat([line, Buffer.from(` HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)]));
  const name = '\u2603snow\u00e9';
  assert.match(await send(Buffer.from(`PUT /v1/AUTH_test/${name}`)), /^HTTP\/1\.1 201 /);
  assert.match(await send(Buffer.from(`PUT /v1/AUTH_test/${name}/${name}?ignored=\u00ff`), 'data'), /^HTTP\/1\.1 201 /);
  assert.is((await c.request('GET', `/v1/AUTH_test/${encodeURIComponent(name)}`)).body.toString(), `${name}\n`);
  const invalid = await send(Buffer.concat([Buffer.from('PUT /v1/AUTH_test/'), Buffer.from(name).reverse()]));
  assert.match(invalid, /^HTTP\/1\.1 412 /);
  assert.match(invalid, /Invalid UTF8 or contains NULL$/);
});

test('regression (methods node does not know were 400 from the HTTP parser): LICK and GETorHEAD_base are 405 Method Not Allowed, as Swift answers', async () => {
  for (const method of ['LICK', 'GETorHEAD_base']) {
    const res = await raw(`${method} /v1/AUTH_test HTTP/1.1`);
    assert.is(res.status, 405, method);
    assert.ok(res.headers['allow'], method);
  }
});

test.run();
