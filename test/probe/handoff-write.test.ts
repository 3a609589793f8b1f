import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeCluster } from '../../bench/process-cluster.ts';

test('a write while two of three primaries are down lands on a handoff and moves home once they return', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    const names = ['AUTH_test', 'probe', 'far-from-home'];
    const ring = c.rings().object;
    const { partition, nodes } = ring.getNodes('AUTH_test', 'probe', 'far-from-home');
    const down = nodes.slice(0, 2).map((node) => c.nodeOf(node));
    const handoff = [...ring.moreNodes(partition)][0];
    assert.ok(handoff);
    for (const n of down) await c.kill(n);

    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/far-from-home', {}, 'written in a storm')).status, 201, 'a quorum of two: one primary and a handoff');
    assert.is((await c.direct(handoff, 'HEAD', partition, names)).status, 200, 'the handoff holds a copy');
    assert.is((await c.request('GET', '/v1/AUTH_test/probe/far-from-home')).body.toString(), 'written in a storm');

    for (const n of down) await c.start(n);
    await c.once('object-replicator');
    for (const r of await c.onPrimaries('GET', names)) {
      assert.is(r.status, 200, `node${r.node}`);
      assert.is(r.body.toString(), 'written in a storm');
    }
    assert.is((await c.direct(handoff, 'HEAD', partition, names)).status, 404, 'the handoff let go of its copy');
    await c.once('object-updater');
    // Like Swift, the proxy names container replica i in object request i's headers. With one
    // handoff for two down primaries, one request finds no node, so its container replica may get
    // neither the update nor an async pending: container replication brings that listing level.
    await c.once('container-replicator');
    for (const listing of await c.listings('AUTH_test', 'probe')) assert.equal(listing.names, ['far-from-home'], `node${listing.node}'s listing`);
  } finally {
    await c.close();
  }
});

test.run();
