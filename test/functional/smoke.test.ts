import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster } from '../helpers/cluster.ts';

test('a cluster in process: auth, container, object round trip', async () => {
  const c = await startCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/c1')).status, 201);
    const put = await c.request('PUT', '/v1/AUTH_test/c1/hello.txt', {}, 'hello world');
    assert.is(put.status, 201);
    const get = await c.request('GET', '/v1/AUTH_test/c1/hello.txt');
    assert.is(get.status, 200);
    assert.is(get.body.toString(), 'hello world');
    assert.is(get.headers['content-type'], 'text/plain');
    const list = await c.request('GET', '/v1/AUTH_test/c1?format=json');
    assert.equal(JSON.parse(list.body.toString()).map((o: { name: string }) => o.name), ['hello.txt']);
  } finally {
    await c.close();
  }
});

test.run();
