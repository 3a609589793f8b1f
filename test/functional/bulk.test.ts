import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { rawStatus } from '../helpers/http.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
});
test.after(async () => {
  await c.close();
});

async function fill(container: string, objects: string[]): Promise<void> {
  assert.is((await c.request('PUT', `/v1/AUTH_test/${container}`)).status, 201);
  for (const name of objects) assert.is((await c.request('PUT', `/v1/AUTH_test/${container}/${name}`, {}, `body of ${name}`)).status, 201);
}

async function exists(path: string): Promise<boolean> {
  const status = (await c.request('HEAD', path)).status;
  return status >= 200 && status < 300;
}

test('/info advertises bulk_delete with Swift limits', async () => {
  const info = JSON.parse((await c.request('GET', '/info', { 'X-Auth-Token': '' })).body.toString());
  assert.equal(info.bulk_delete, { max_deletes_per_request: 10000, max_failed_deletes: 1000 });
});

test('POST ?bulk-delete: objects first, then containers; JSON answer as Swift renders it', async () => {
  await fill('b1', ['o1', 'o2', `${encodeURIComponent('ünï')}/x%20y`]);
  const body = ['/b1', '/b1/o1', 'b1/o2', `/b1/${encodeURIComponent('ünï')}/x%20y`, '/b1/missing', ''].join('\n');
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, body);
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.is(res.body.toString(), '{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 4, "Number Not Found": 1, "Errors": []}');
  assert.not.ok(await exists('/v1/AUTH_test/b1'));
});

test('DELETE ?bulk-delete=1 (rclone) with the plain-text answer', async () => {
  await fill('b2', ['a', 'b']);
  const res = await c.request('DELETE', '/v1/AUTH_test?bulk-delete=1', { 'Content-Type': 'text/plain', 'Content-Length': '12' }, '/b2/a\n/b2/b\n');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), 'Number Deleted: 2\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');
  assert.not.ok(await exists('/v1/AUTH_test/b2/a'));
  assert.ok(await exists('/v1/AUTH_test/b2'));
});

test('a container that is not empty fails with 409; XML answer', async () => {
  await fill('b3', ['keep', 'go']);
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/xml' }, '/b3/go\n/b3\n');
  assert.is(res.status, 200);
  assert.is(res.body.toString(), '<delete>\n<number_deleted>1</number_deleted>\n<number_not_found>0</number_not_found>\n<response_body></response_body>\n<response_status>400 Bad Request</response_status>\n<errors>\n<object><name>/b3</name><status>409 Conflict</status></object>\n</errors>\n</delete>\n');
  assert.ok(await exists('/v1/AUTH_test/b3/keep'));
  assert.not.ok(await exists('/v1/AUTH_test/b3/go'));
});

test('names that are not UTF-8 fail with 412 and are reported quoted', async () => {
  await fill('b4', ['ok']);
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, '/b4/%FF%FE\n/b4/ok\n');
  const result = JSON.parse(res.body.toString());
  assert.equal(result.Errors, [['/b4/%FF%FE', '412 Precondition Failed']]);
  assert.is(result['Number Deleted'], 1);
  assert.is(result['Response Status'], '400 Bad Request');
});

test('without a token every delete is refused (401) and nothing is deleted; a user without rights gets 403', async () => {
  await fill('b5', ['x']);
  const anon = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': '', 'Content-Type': 'text/plain', Accept: 'application/json' }, '/b5/x\n');
  assert.is(anon.status, 200);
  assert.equal(JSON.parse(anon.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [['/b5/x', '401 Unauthorized']] });
  const badToken = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': 'AUTH_tkbogus', 'Content-Type': 'text/plain', Accept: 'application/json' }, '/b5/x\n');
  assert.equal(JSON.parse(badToken.body.toString()).Errors, [['/b5/x', '401 Unauthorized']]);
  const token3 = await c.token('test:tester3');
  const limited = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': token3, 'Content-Type': 'text/plain', Accept: 'application/json' }, '/b5/x\n');
  assert.equal(JSON.parse(limited.body.toString()).Errors, [['/b5/x', '403 Forbidden']]);
  const other = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'X-Auth-Token': await c.token('test2:tester2'), 'Content-Type': 'text/plain', Accept: 'application/json' }, '/b5/x\n');
  assert.equal(JSON.parse(other.body.toString()).Errors, [['/b5/x', '403 Forbidden']]);
  assert.ok(await exists('/v1/AUTH_test/b5/x'));
});

test('more than 10,000 names: 413, nothing deleted', async () => {
  await fill('b6', ['first']);
  const lines = ['/b6/first', ...Array.from({ length: 10_000 }, (_, i) => `/b6/n${i}`)];
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, lines.join('\n'));
  assert.is(res.status, 413);
  assert.equal(JSON.parse(res.body.toString()), { 'Response Status': '413 Request Entity Too Large', 'Response Body': 'Maximum Bulk Deletes: 10000 per request', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [] });
  assert.ok(await exists('/v1/AUTH_test/b6/first'));
});

test('exactly 10,000 names are accepted', async () => {
  // Names that are not UTF-8 fail without a subrequest, which keeps this test quick; they do
  // not count toward max_failed_deletes (only answers do, as in Swift).
  const lines = Array.from({ length: 10_000 }, (_, i) => `/nosuchcontainer/%FF${i}`);
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, lines.join('\n'));
  assert.is(res.status, 200);
  const result = JSON.parse(res.body.toString().trim());
  assert.is(result.Errors.length, 10_000);
  assert.equal(result.Errors[9_999], ['/nosuchcontainer/%FF9999', '412 Precondition Failed']);
  assert.is(result['Response Status'], '400 Bad Request');
});

test('refused before deleting: wrong Content-Type 406, bad Accept 406, no length 411, line too long 400, empty list 400 in the body', async () => {
  await fill('b7', ['stay']);
  const json = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'application/json' }, '/b7/stay\n');
  assert.is(json.status, 406);
  assert.is(json.body.toString(), 'Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 406 Not Acceptable\nErrors:\n');
  const accept = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'image/png' }, '/b7/stay\n');
  assert.is(accept.status, 406);
  assert.match(accept.body.toString(), /Response Status: 406 Not Acceptable/);
  const token = await c.token();
  const noLength = await rawStatus(c.port, `POST /v1/AUTH_test?bulk-delete HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nContent-Type: text/plain\r\n\r\n`);
  assert.is(noLength, 411);
  const long = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, `/b7/${'x'.repeat(3000)}`);
  assert.is(long.status, 400);
  assert.is(JSON.parse(long.body.toString())['Response Body'], 'Invalid File Name');
  const empty = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', Accept: 'application/json' }, '\n\n');
  assert.is(empty.status, 200);
  assert.equal(JSON.parse(empty.body.toString()), { 'Response Status': '400 Bad Request', 'Response Body': 'Invalid bulk delete.', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [] });
  assert.ok(await exists('/v1/AUTH_test/b7/stay'));
});

test('a chunked body works; a GET with ?bulk-delete is an ordinary GET', async () => {
  await fill('b8', ['c1', 'c2']);
  const res = await c.request('POST', '/v1/AUTH_test?bulk-delete', { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', Accept: 'application/json' }, '/b8/c1\n/b8/c2');
  assert.is(JSON.parse(res.body.toString())['Number Deleted'], 2);
  const get = await c.request('GET', '/v1/AUTH_test?bulk-delete&format=json');
  assert.is(get.status, 200);
  assert.ok(Array.isArray(JSON.parse(get.body.toString())));
});

test.run();
