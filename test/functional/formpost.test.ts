import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
const KEY = 'form-key';
const PATH = '/v1/AUTH_test/uploads';

test.before(async () => {
  c = await startCluster();
  assert.is((await c.request('POST', '/v1/AUTH_test', { 'X-Account-Meta-Temp-URL-Key': KEY })).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/uploads')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/other', { 'X-Container-Meta-Temp-URL-Key-2': 'container-key' })).status, 201);
});
test.after(async () => {
  await c.close();
});

interface Form {
  path?: string;
  redirect?: string;
  maxFileSize?: number;
  maxFileCount?: number;
  expires?: number;
  key?: string;
  digest?: 'sha1' | 'sha256' | 'sha512';
  signature?: string;
  extra?: Record<string, string>;
  files: { name: string; body: string | Buffer; type?: string }[];
}

const BOUNDARY = '----FormBoundary7MA4YWxkTrZu0gW';

/** A browser's multipart body for the form, signed as Swift's docs show. */
function formBody(form: Form): { path: string; body: Buffer } {
  const path = form.path ?? PATH;
  const redirect = form.redirect ?? '';
  const maxFileSize = form.maxFileSize ?? 1024;
  const maxFileCount = form.maxFileCount ?? 10;
  const expires = form.expires ?? Math.floor(Date.now() / 1000) + 600;
  const signature = form.signature ?? createHmac(form.digest ?? 'sha256', form.key ?? KEY).update(`${path}\n${redirect}\n${maxFileSize}\n${maxFileCount}\n${expires}`).digest('hex');
  const fields: Record<string, string> = { redirect, max_file_size: String(maxFileSize), max_file_count: String(maxFileCount), expires: String(expires), signature, ...form.extra };
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  form.files.forEach((file, i) => {
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i + 1}"; filename="${file.name}"\r\n${file.type ? `Content-Type: ${file.type}\r\n` : ''}\r\n`));
    parts.push(Buffer.from(file.body));
    parts.push(Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return { path, body: Buffer.concat(parts) };
}

function post(form: Form) {
  const { path, body } = formBody(form);
  return c.request('POST', path, { 'X-Auth-Token': '', 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body);
}

test('/info announces formpost with its digests', async () => {
  const info = JSON.parse((await c.request('GET', '/info')).body.toString());
  assert.equal(info.formpost, { allowed_digests: ['sha1', 'sha256', 'sha512'], deprecated_digests: ['sha1'] });
});

test('a signed form uploads its files into the container; the answer is the last status', async () => {
  const res = await post({ files: [{ name: 'a.txt', body: 'first file', type: 'text/plain' }, { name: 'b.bin', body: Buffer.from([0, 1, 2, 255]) }] });
  assert.is(res.status, 201);
  assert.is(res.body.toString(), '201 Created');
  const a = await c.request('GET', '/v1/AUTH_test/uploads/a.txt');
  assert.is(a.body.toString(), 'first file');
  assert.is(a.headers['content-type'], 'text/plain');
  assert.equal([...(await c.request('GET', '/v1/AUTH_test/uploads/b.bin')).body], [0, 1, 2, 255]);
});

test('sha1, sha512 and <digest>:<base64> signatures; a container key; an object prefix', async () => {
  assert.is((await post({ digest: 'sha1', files: [{ name: 's1', body: '1' }] })).status, 201);
  assert.is((await post({ digest: 'sha512', files: [{ name: 's512', body: '2' }] })).status, 201);
  const expires = Math.floor(Date.now() / 1000) + 600;
  const hmac = createHmac('sha256', KEY).update(`${PATH}\n\n1024\n10\n${expires}`).digest('base64url');
  assert.is((await post({ expires, signature: `sha256:${hmac}`, files: [{ name: 'b64', body: '3' }] })).status, 201);
  assert.is((await post({ path: '/v1/AUTH_test/other/pre-', key: 'container-key', files: [{ name: 'x', body: 'prefixed' }] })).status, 201);
  assert.is((await c.request('GET', '/v1/AUTH_test/other/pre-x')).body.toString(), 'prefixed');
});

test('redirect: a 303 with status and message', async () => {
  const ok = await post({ redirect: 'https://example.com/done?x=1', files: [{ name: 'r', body: 'r' }] });
  assert.is(ok.status, 303);
  assert.is(ok.headers['location'], 'https://example.com/done?x=1&status=201&message=');
  assert.is(ok.body.toString(), '<html><body><p><a href="https://example.com/done?x=1&status=201&message=">Click to continue...</a></p></body></html>');
  const none = await post({ redirect: 'https://example.com/done', files: [] });
  assert.is(none.headers['location'], 'https://example.com/done?status=400&message=no%20files%20to%20process');
});

test('a wrong key, an expired form or an unknown digest is a 401 and stores nothing', async () => {
  const bad = await post({ key: 'wrong', files: [{ name: 'nope', body: 'x' }] });
  assert.is(bad.status, 401);
  assert.is(bad.body.toString(), 'FormPost: Invalid Signature');
  const expired = await post({ expires: Math.floor(Date.now() / 1000) - 1, files: [{ name: 'nope', body: 'x' }] });
  assert.is(expired.status, 401);
  assert.is(expired.body.toString(), 'FormPost: Form Expired');
  assert.is((await post({ signature: `md5:${Buffer.alloc(16).toString('base64')}`, files: [{ name: 'nope', body: 'x' }] })).status, 401);
  assert.is((await post({ path: '/v1/AUTH_test', files: [{ name: 'nope', body: 'x' }] })).status, 401);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/uploads/nope')).status, 404);
});

test('limits: a file over max_file_size or past max_file_count is a 400; the first files stay', async () => {
  const big = await post({ maxFileSize: 5, files: [{ name: 'big', body: '123456' }] });
  assert.is(big.status, 400);
  assert.is(big.body.toString(), 'FormPost: max_file_size exceeded');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/uploads/big')).status, 404);
  assert.is((await post({ maxFileSize: 5, files: [{ name: 'fits', body: '12345' }] })).status, 201);
  const many = await post({ maxFileCount: 1, files: [{ name: 'one', body: '1' }, { name: 'two', body: '2' }] });
  assert.is(many.status, 400);
  assert.is(many.body.toString(), '400 Bad Request\r\nFormPost: Max File Count Exceeded');
  assert.is((await c.request('HEAD', '/v1/AUTH_test/uploads/one')).status, 200);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/uploads/two')).status, 404);
  const none = await post({ files: [] });
  assert.is(none.body.toString(), '400 Bad Request\r\nFormPost: No Files To Process');
});

test('x_delete_after makes the uploads expire; bad values are a 400', async () => {
  assert.is((await post({ extra: { x_delete_after: '600' }, files: [{ name: 'temp', body: 't' }] })).status, 201);
  const head = await c.request('HEAD', '/v1/AUTH_test/uploads/temp');
  const at = Number(head.headers['x-delete-at']);
  assert.ok(Math.abs(at - (Date.now() / 1000 + 600)) < 30, `x-delete-at ${at}`);
  const bad = await post({ extra: { x_delete_at: 'soon' }, files: [{ name: 'temp2', body: 't' }] });
  assert.is(bad.status, 400);
  assert.is(bad.body.toString(), 'FormPost: x_delete_at not an integer: Unix timestamp required.');
});

test('a body that does not start with its boundary is a 400; other POSTs pass through', async () => {
  const res = await c.request('POST', PATH, { 'X-Auth-Token': '', 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, 'garbage\r\n');
  assert.is(res.status, 400);
  assert.is(res.body.toString(), 'FormPost: invalid starting boundary');
  assert.is((await c.request('POST', PATH, { 'X-Container-Meta-A': 'b' })).status, 204);
});

test.run();
