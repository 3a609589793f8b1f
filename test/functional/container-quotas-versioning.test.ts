import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

// Container info cached as `npm start` caches it (Swift's default recheck_container_existence),
// so a quota that read the versions container's cached info would miss the newest versions.
let c: TestCluster;

test.before(async () => {
  c = await startCluster({ proxy: { recheck_container_existence: 60 } });
});
test.after(async () => {
  await c.close();
});

test('container quota bytes on a versioned container count its versions (the third write of a 10-byte quota was stored)', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/qv', { 'X-Versions-Enabled': 'true' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qv/o', {}, 'aaaaa')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qv/o', {}, 'bbbbb')).status, 201);
  assert.is((await c.request('POST', '/v1/AUTH_test/qv', { 'X-Container-Meta-Quota-Bytes': '10' })).status, 204);
  const head = await c.request('HEAD', '/v1/AUTH_test/qv');
  assert.is(head.headers['x-container-bytes-used'], '10');
  assert.is(head.headers['x-container-object-count'], '1');
  const over = await c.request('PUT', '/v1/AUTH_test/qv/o', {}, 'ccccc');
  assert.is(over.status, 413);
  assert.is(over.body.toString(), 'Upload exceeds quota.');
  assert.is((await c.request('GET', '/v1/AUTH_test/qv/o')).body.toString(), 'bbbbb');
  // Deleting the older version makes room again.
  const versions = JSON.parse((await c.request('GET', '/v1/AUTH_test/qv?versions&format=json')).body.toString()) as { version_id: string; is_latest: boolean }[];
  const older = versions.find((v) => !v.is_latest);
  assert.ok(older);
  assert.is((await c.request('DELETE', `/v1/AUTH_test/qv/o?version-id=${older.version_id}`)).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qv/o', {}, 'ccccc')).status, 201);
});

test('a versioned container\'s count quota is its own object count, not its versions\'', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/qn', { 'X-Versions-Enabled': 'true' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qn/o', {}, 'aaaaa')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qn/o', {}, 'bbbbb')).status, 201);
  assert.is((await c.request('POST', '/v1/AUTH_test/qn', { 'X-Container-Meta-Quota-Count': '2' })).status, 204);
  assert.is((await c.request('PUT', '/v1/AUTH_test/qn/p', {}, 'ccccc')).status, 201);
});

test.run();
