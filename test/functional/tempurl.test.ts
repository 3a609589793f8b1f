import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
const KEY = 'account-secret';
const CONTAINER_KEY = 'container-secret';

test.before(async () => {
  c = await startCluster();
  assert.is((await c.request('POST', '/v1/AUTH_test', { 'X-Account-Meta-Temp-URL-Key': KEY })).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/tu')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/tu2', { 'X-Container-Meta-Temp-URL-Key-2': CONTAINER_KEY })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/tu/obj.txt', { 'X-Object-Meta-Secret': 's', 'X-Object-Meta-Public-Color': 'red' }, 'temp url body')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/tu2/obj.txt', {}, 'in tu2')).status, 201);
});
test.after(async () => {
  await c.close();
});

const now = (): number => Math.floor(Date.now() / 1000);

function sign(method: string, expires: number, path: string, key = KEY, digest: 'sha1' | 'sha256' | 'sha512' = 'sha256', ip?: string): string {
  return createHmac(digest, key).update(`${ip ? `ip=${ip}\n` : ''}${method}\n${expires}\n${path}`).digest('hex');
}

function b64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** A request with no token. */
function anon(method: string, url: string, headers: Record<string, string> = {}, body?: string) {
  return c.request(method, url, { 'X-Auth-Token': '', ...headers }, body);
}

test('/info advertises tempurl as Swift 2.30 does', async () => {
  const info = JSON.parse((await anon('GET', '/info')).body.toString());
  assert.equal(info.tempurl, {
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    incoming_remove_headers: ['x-timestamp'],
    incoming_allow_headers: [],
    outgoing_remove_headers: ['x-object-meta-*'],
    outgoing_allow_headers: ['x-object-meta-public-*'],
    allowed_digests: ['sha1', 'sha256', 'sha512'],
    deprecated_digests: ['sha1'],
  });
});

test('GET with a sha256 hex signature: the object, Content-Disposition, Expires, private metadata hidden', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/obj.txt';
  const res = await anon('GET', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires}`);
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'temp url body');
  assert.is(res.headers['content-disposition'], `attachment; filename="obj.txt"; filename*=UTF-8''obj.txt`);
  assert.is(res.headers['expires'], new Date(expires * 1000).toUTCString());
  assert.is(res.headers['x-object-meta-secret'], undefined);
  assert.is(res.headers['x-object-meta-public-color'], 'red');
});

test('sha1 hex, sha512 and sha256 in <digest>:<base64> form; ISO 8601 expiry', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/obj.txt';
  assert.is((await anon('GET', `${path}?temp_url_sig=${sign('GET', expires, path, KEY, 'sha1')}&temp_url_expires=${expires}`)).status, 200);
  assert.is((await anon('GET', `${path}?temp_url_sig=sha512:${b64(sign('GET', expires, path, KEY, 'sha512'))}&temp_url_expires=${expires}`)).status, 200);
  assert.is((await anon('GET', `${path}?temp_url_sig=sha256:${b64(sign('GET', expires, path))}&temp_url_expires=${expires}`)).status, 200);
  const padded = Buffer.from(sign('GET', expires, path, KEY, 'sha512'), 'hex').toString('base64');
  assert.is((await anon('GET', `${path}?temp_url_sig=sha512:${encodeURIComponent(padded)}&temp_url_expires=${expires}`)).status, 200);
  const iso = new Date(expires * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  assert.is((await anon('GET', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${iso}`)).status, 200);
});

test('HEAD is admitted by a GET, PUT or POST signature, not a DELETE one', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/obj.txt';
  for (const method of ['HEAD', 'GET', 'PUT', 'POST']) {
    const res = await anon('HEAD', `${path}?temp_url_sig=${sign(method, expires, path)}&temp_url_expires=${expires}`);
    assert.is(res.status, 200, method);
  }
  assert.is((await anon('HEAD', `${path}?temp_url_sig=${sign('DELETE', expires, path)}&temp_url_expires=${expires}`)).status, 401);
});

test('PUT, POST and DELETE with their own signatures; a GET signature does not allow a PUT', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/uploaded';
  const wrong = await anon('PUT', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires}`, {}, 'nope');
  assert.is(wrong.status, 401);
  assert.is((await c.request('HEAD', path)).status, 404);
  const put = await anon('PUT', `${path}?temp_url_sig=${sign('PUT', expires, path)}&temp_url_expires=${expires}`, {}, 'uploaded via tempurl');
  assert.is(put.status, 201);
  assert.is((await c.request('GET', path)).body.toString(), 'uploaded via tempurl');
  const post = await anon('POST', `${path}?temp_url_sig=${sign('POST', expires, path)}&temp_url_expires=${expires}`, { 'X-Object-Meta-Via': 'tempurl' });
  assert.is(post.status, 202);
  assert.is((await c.request('HEAD', path)).headers['x-object-meta-via'], 'tempurl');
  const del = await anon('DELETE', `${path}?temp_url_sig=${sign('DELETE', expires, path)}&temp_url_expires=${expires}`);
  assert.is(del.status, 204);
  assert.is((await c.request('HEAD', path)).status, 404);
});

/** `hex` with its first digit changed. */
const flipFirst = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

test('401 for expired, malformed, wrong-path, unknown-digest or missing-key URLs', async () => {
  const path = '/v1/AUTH_test/tu/obj.txt';
  const expires = now() + 60;
  const past = now() - 1;
  const cases: Array<[string, string]> = [
    ['expired', `${path}?temp_url_sig=${sign('GET', past, path)}&temp_url_expires=${past}`],
    // The first digit changed (it was set to 0, which one signature in 16 already starts with).
    ['bad signature', `${path}?temp_url_sig=${flipFirst(sign('GET', expires, path))}&temp_url_expires=${expires}`],
    ['other object', `/v1/AUTH_test/tu/other?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires}`],
    ['other expiry', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires + 1}`],
    ['no expiry', `${path}?temp_url_sig=${sign('GET', expires, path)}`],
    ['no signature', `${path}?temp_url_expires=${expires}`],
    ['empty signature', `${path}?temp_url_sig=&temp_url_expires=${expires}`],
    ['unreadable expiry', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=soon`],
    ['unknown digest', `${path}?temp_url_sig=md5:${b64(sign('GET', expires, path))}&temp_url_expires=${expires}`],
    ['odd hex length', `${path}?temp_url_sig=${sign('GET', expires, path).slice(0, 50)}&temp_url_expires=${expires}`],
    ['wrong key', `${path}?temp_url_sig=${sign('GET', expires, path, 'not-the-key')}&temp_url_expires=${expires}`],
    ['no key in that account', `/v1/AUTH_test2/c/o?temp_url_sig=${sign('GET', expires, '/v1/AUTH_test2/c/o')}&temp_url_expires=${expires}`],
    ['container path', `/v1/AUTH_test/tu?temp_url_sig=${sign('GET', expires, '/v1/AUTH_test/tu')}&temp_url_expires=${expires}`],
  ];
  for (const [name, url] of cases) {
    const res = await anon('GET', url);
    assert.is(res.status, 401, name);
    if (name !== 'container path') assert.is(res.body.toString(), '401 Unauthorized: Temp URL invalid\n', name);
  }
  // A method TempURL does not handle.
  assert.is((await anon('COPY', `${path}?temp_url_sig=${sign('COPY', expires, path)}&temp_url_expires=${expires}`, { Destination: 'tu/copied' })).status, 401);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/tu/copied')).status, 404);
});

test('the signature is the credential: a token sent along is ignored; a valid token does not rescue a bad signature', async () => {
  const path = '/v1/AUTH_test/tu/obj.txt';
  const expires = now() + 60;
  assert.is((await c.request('GET', `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires}`, { 'X-Auth-Token': 'AUTH_tkbogus' })).status, 200);
  assert.is((await c.request('GET', `${path}?temp_url_sig=${sign('GET', expires, path, 'wrong')}&temp_url_expires=${expires}`)).status, 401);
});

test('container keys (Temp-URL-Key-2) work for that container only', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu2/obj.txt';
  assert.is((await anon('GET', `${path}?temp_url_sig=${sign('GET', expires, path, CONTAINER_KEY)}&temp_url_expires=${expires}`)).status, 200);
  const elsewhere = '/v1/AUTH_test/tu/obj.txt';
  assert.is((await anon('GET', `${elsewhere}?temp_url_sig=${sign('GET', expires, elsewhere, CONTAINER_KEY)}&temp_url_expires=${expires}`)).status, 401);
});

test('a TempURL PUT copies only within the key scope', async () => {
  const expires = now() + 60;
  // Container key: the copy source in another container is refused, nothing stored.
  const target = '/v1/AUTH_test/tu2/copied';
  const outside = await anon('PUT', `${target}?temp_url_sig=${sign('PUT', expires, target, CONTAINER_KEY)}&temp_url_expires=${expires}`, { 'X-Copy-From': 'tu/obj.txt', 'Content-Length': '0' });
  assert.is(outside.status, 401);
  assert.is((await c.request('HEAD', target)).status, 404);
  const inside = await anon('PUT', `${target}?temp_url_sig=${sign('PUT', expires, target, CONTAINER_KEY)}&temp_url_expires=${expires}`, { 'X-Copy-From': 'tu2/obj.txt', 'Content-Length': '0' });
  assert.is(inside.status, 201);
  // Account key: another account is out of scope.
  const token2 = await c.token('test2:tester2');
  assert.is((await c.request('PUT', '/v1/AUTH_test2/open', { 'X-Auth-Token': token2, 'X-Container-Read': '.r:*' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test2/open/o', { 'X-Auth-Token': token2 }, 'theirs')).status, 201);
  const mine = '/v1/AUTH_test/tu/from-other-account';
  const cross = await anon('PUT', `${mine}?temp_url_sig=${sign('PUT', expires, mine)}&temp_url_expires=${expires}`, { 'X-Copy-From': 'open/o', 'X-Copy-From-Account': 'AUTH_test2', 'Content-Length': '0' });
  assert.is(cross.status, 401);
  assert.is((await c.request('HEAD', mine)).status, 404);
});

test('a TempURL write may not set X-Object-Manifest; X-Timestamp is dropped', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/manifest';
  const res = await anon('PUT', `${path}?temp_url_sig=${sign('PUT', expires, path)}&temp_url_expires=${expires}`, { 'X-Object-Manifest': 'tu/seg' }, '');
  assert.is(res.status, 400);
  assert.is(res.body.toString(), "The header 'X-Object-Manifest' is not allowed in this tempurl");
  assert.is((await c.request('HEAD', path)).status, 404);
  const stamped = await anon('PUT', `${path}?temp_url_sig=${sign('PUT', expires, path)}&temp_url_expires=${expires}`, { 'X-Timestamp': '1000000000.00000' }, 'x');
  assert.is(stamped.status, 201);
  assert.ok(Number((await c.request('HEAD', path)).headers['x-timestamp']) > 1_600_000_000);
});

test('prefix-based URLs cover every object under the prefix', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/tu/pre/one', {}, 'one')).status, 201);
  const expires = now() + 60;
  const sig = sign('GET', expires, 'prefix:/v1/AUTH_test/tu/pre');
  assert.is((await anon('GET', `/v1/AUTH_test/tu/pre/one?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_prefix=pre`)).status, 200);
  assert.is((await anon('GET', `/v1/AUTH_test/tu/obj.txt?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_prefix=pre`)).status, 401);
  // The prefix is signed: another one does not match.
  assert.is((await anon('GET', `/v1/AUTH_test/tu/pre/one?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_prefix=pr`)).status, 401);
});

test('temp_url_ip_range: the client must be in the signed range', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/obj.txt';
  for (const [range, status] of [['127.0.0.1', 200], ['127.0.0.0/8', 200], ['10.0.0.0/8', 401], ['127.0.0.1/8', 401], ['not-an-ip', 401]] as const) {
    const sig = sign('GET', expires, path, KEY, 'sha256', range);
    const res = await anon('GET', `${path}?temp_url_sig=${sig}&temp_url_expires=${expires}&temp_url_ip_range=${encodeURIComponent(range)}`);
    assert.is(res.status, status, range);
  }
  // The range is signed: dropping it from the URL breaks the signature.
  const sig = sign('GET', expires, path, KEY, 'sha256', '127.0.0.1');
  assert.is((await anon('GET', `${path}?temp_url_sig=${sig}&temp_url_expires=${expires}`)).status, 401);
});

test('filename and inline set Content-Disposition', async () => {
  const expires = now() + 60;
  const path = '/v1/AUTH_test/tu/obj.txt';
  const base = `${path}?temp_url_sig=${sign('GET', expires, path)}&temp_url_expires=${expires}`;
  assert.is((await anon('GET', `${base}&filename=My+Test+File.pdf`)).headers['content-disposition'], `attachment; filename="My Test File.pdf"; filename*=UTF-8''My%20Test%20File.pdf`);
  assert.is((await anon('GET', `${base}&inline`)).headers['content-disposition'], 'inline');
  assert.is((await anon('GET', `${base}&inline&filename=${encodeURIComponent('ünï.txt')}`)).headers['content-disposition'], `inline; filename="%C3%BCn%C3%AF.txt"; filename*=UTF-8''%C3%BCn%C3%AF.txt`);
});

test('names with spaces and UTF-8 are signed unquoted', async () => {
  const name = 'dir/ünï cødé.txt';
  const quoted = `/v1/AUTH_test/tu/${name.split('/').map(encodeURIComponent).join('/')}`;
  assert.is((await c.request('PUT', quoted, {}, 'utf8 name')).status, 201);
  const expires = now() + 60;
  const res = await anon('GET', `${quoted}?temp_url_sig=${sign('GET', expires, `/v1/AUTH_test/tu/${name}`)}&temp_url_expires=${expires}`);
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'utf8 name');
  assert.is(res.headers['content-disposition'], `attachment; filename="%C3%BCn%C3%AF c%C3%B8d%C3%A9.txt"; filename*=UTF-8''%C3%BCn%C3%AF%20c%C3%B8d%C3%A9.txt`);
});

test.run();
