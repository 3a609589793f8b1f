import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeCluster } from '../../bench/process-cluster.ts';

test('deletes made while a node is down do not come back when it returns', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    const names = ['AUTH_test', 'probe', 'doomed'];
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/doomed', {}, 'old data')).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/kept', {}, 'stays')).status, 201);
    const [down] = await c.onPrimaries('HEAD', names);
    assert.ok(down);
    await c.kill(down.node);
    assert.is((await c.request('DELETE', '/v1/AUTH_test/probe/doomed')).status, 204);
    const status = await c.swiftlet(['status']);
    assert.is(status.code, 1, 'status fails while a node is down');
    assert.match(status.output, new RegExp(`^node${down.node} .* DOWN`, 'm'));
    const once = await c.swiftlet(['once', 'object-updater']);
    assert.is(once.code, 1);
    assert.match(once.output, new RegExp(`node${down.node} \\(.*\\): not reachable`));
    await c.start(down.node);
    const stale = (await c.onPrimaries('HEAD', names)).find((r) => r.node === down.node);
    assert.is(stale?.status, 200, 'the returning node still has the old copy');

    await c.once('all');
    for (const r of await c.onPrimaries('HEAD', names)) assert.is(r.status, 404, `node${r.node} has the tombstone`);
    assert.is((await c.request('GET', '/v1/AUTH_test/probe/doomed')).status, 404);
    for (const listing of await c.listings('AUTH_test', 'probe')) assert.equal(listing.names, ['kept'], `node${listing.node}'s listing`);
    // A second round changes nothing: the old copy is not pushed back anywhere.
    await c.once('all');
    for (const r of await c.onPrimaries('HEAD', names)) assert.is(r.status, 404, `node${r.node} after a second round`);
  } finally {
    await c.close();
  }
});

test.run();
