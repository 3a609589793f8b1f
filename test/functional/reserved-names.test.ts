import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;

test.before(async () => {
  c = await startCluster();
  assert.is((await c.request('PUT', '/v1/AUTH_test/c')).status, 201);
});
test.after(async () => {
  await c.close();
});

test('a client can name nothing in the reserved namespace, even claiming the header only the proxy may send', async () => {
  for (const headers of [{}, { 'X-Backend-Allow-Reserved-Names': 'true' }] as Record<string, string>[]) {
    for (const [method, path] of [['PUT', '/v1/AUTH_test/%00versions%00c'], ['PUT', '/v1/AUTH_test/c/%00o'], ['GET', '/v1/AUTH_test/%00versions%00c'], ['HEAD', '/v1/AUTH_test/c/o%00']] as const) {
      const res = await c.request(method, path, { 'Content-Length': '0', ...headers });
      assert.is(res.status, 412, `${method} ${path} ${JSON.stringify(headers)}`);
      if (method !== 'HEAD') assert.is(res.body.toString(), 'Invalid UTF8 or contains NULL');
    }
  }
  assert.is((await c.request('GET', '/v1/AUTH_test?format=json')).body.toString().includes('\\u0000'), false);
});

test.run();
