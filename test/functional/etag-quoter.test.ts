import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
const MD5 = '098f6bcd4621d373cade4e832627b4f6'; // md5('test')

test.before(async () => {
  c = await startCluster();
  assert.is((await c.request('PUT', '/v1/AUTH_test/e')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/e/o', {}, 'test')).status, 201);
});
test.after(async () => {
  await c.close();
});

const etag = async (): Promise<string | undefined> => (await c.request('HEAD', '/v1/AUTH_test/e/o')).headers['etag'];

test('ETags are bare by default; /info says so', async () => {
  assert.is(await etag(), MD5);
  assert.equal(JSON.parse((await c.request('GET', '/info')).body.toString()).etag_quoter, { enable_by_default: false });
});

test('the container\'s flag wins, then the account\'s (Swift\'s test_etag_quoter sequence)', async () => {
  const post = (path: string, header: string, value: string) => c.request('POST', path, { [header]: value });
  assert.is((await post('/v1/AUTH_test/e', 'X-Container-Rfc-Compliant-Etags', 't')).status, 204);
  assert.is(await etag(), `"${MD5}"`);
  assert.is((await c.request('GET', '/v1/AUTH_test/e/o')).headers['etag'], `"${MD5}"`);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/e')).headers['x-container-rfc-compliant-etags'], 'True');
  assert.is((await post('/v1/AUTH_test', 'X-Account-Rfc-Compliant-Etags', 't')).status, 204);
  assert.is((await post('/v1/AUTH_test/e', 'X-Container-Rfc-Compliant-Etags', '')).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test/e')).headers['x-container-rfc-compliant-etags'], undefined);
  assert.is(await etag(), `"${MD5}"`);
  assert.is((await post('/v1/AUTH_test/e', 'X-Container-Rfc-Compliant-Etags', 'f')).status, 204);
  assert.is(await etag(), MD5);
  assert.is((await c.request('HEAD', '/v1/AUTH_test')).headers['x-account-rfc-compliant-etags'], 'True');
  assert.is((await post('/v1/AUTH_test', 'X-Remove-Account-Rfc-Compliant-Etags', 'x')).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test')).headers['x-account-rfc-compliant-etags'], undefined);
});

test('the system metadata behind the flag cannot be set directly', async () => {
  assert.is((await c.request('POST', '/v1/AUTH_test/e', { 'X-Container-Sysmeta-Rfc-Compliant-Etags': 'True', 'X-Remove-Container-Rfc-Compliant-Etags': 'x' })).status, 204);
  assert.is((await c.request('POST', '/v1/AUTH_test/e', { 'X-Container-Sysmeta-Rfc-Compliant-Etags': 'True' })).status, 204);
  assert.is(await etag(), MD5);
});

test('enable_by_default quotes every ETag unless a flag says otherwise', async () => {
  const other = await startCluster({ nodes: 3, middleware: { 'etag-quoter': { enable_by_default: true } } });
  try {
    assert.is((await other.request('PUT', '/v1/AUTH_test/e')).status, 201);
    const put = await other.request('PUT', '/v1/AUTH_test/e/o', {}, 'test');
    assert.is(put.headers['etag'], `"${MD5}"`);
    assert.is((await other.request('POST', '/v1/AUTH_test/e', { 'X-Container-Rfc-Compliant-Etags': 'no' })).status, 204);
    assert.is((await other.request('HEAD', '/v1/AUTH_test/e/o')).headers['etag'], MD5);
  } finally {
    await other.close();
  }
});

test.run();
