import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeCluster } from '../../bench/process-cluster.ts';

test('X-Delete-After disappears from GET once past and from the listing after the expirer runs (regression: X-Delete-After: 1 was already past when a loaded machine reached the object servers, a 400)', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    // Not 1 s: the object servers refuse a delete time already past (Swift's 400), which a
    // loaded machine can reach before the PUT does.
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/brief', { 'X-Delete-After': '3' }, 'gone soon')).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/kept', {}, 'stays')).status, 201);
    const deadline = Date.now() + 30_000;
    while ((await c.request('GET', '/v1/AUTH_test/probe/brief')).status !== 404) {
      assert.ok(Date.now() < deadline, 'still served 30 s after its delete time');
      await new Promise((r) => setTimeout(r, 250));
    }
    const listed = async (): Promise<string[]> => JSON.parse((await c.request('GET', '/v1/AUTH_test/probe?format=json')).body.toString()).map((o: { name: string }) => o.name);
    assert.equal(await listed(), ['brief', 'kept'], 'listed until the expirer runs, as in Swift');

    await c.once('container-updater'); // the queue container reaches the queue account's listing
    await c.once('object-expirer');
    assert.equal(await listed(), ['kept']);
    for (const listing of await c.listings('AUTH_test', 'probe')) assert.equal(listing.names, ['kept'], `node${listing.node}'s listing`);
    for (const r of await c.onPrimaries('HEAD', ['AUTH_test', 'probe', 'brief'])) assert.is(r.status, 404, `node${r.node}`);
  } finally {
    await c.close();
  }
});

test.run();
