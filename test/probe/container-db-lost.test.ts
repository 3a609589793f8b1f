import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeCluster } from '../../bench/process-cluster.ts';

test('a container database lost on one node: replication rebuilds it with every row and its stats', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe', { 'X-Container-Meta-Color': 'blue' })).status, 201);
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      expected.push(`o${String(i).padStart(2, '0')}`);
      assert.is((await c.request('PUT', `/v1/AUTH_test/probe/${expected[i]}`, {}, 'twelve bytes')).status, 201);
    }
    const [victim] = await c.onPrimaries('HEAD', ['AUTH_test', 'probe']);
    assert.ok(victim);
    const device = `d${victim.node}`;
    await c.kill(victim.node);
    // The device's container databases are gone (a lost disk, a bad restore).
    await rm(join(c.layout.devices(victim.node), device, 'containers'), { recursive: true, force: true });
    await c.start(victim.node);
    const before = (await c.onPrimaries('HEAD', ['AUTH_test', 'probe'])).find((r) => r.node === victim.node);
    assert.is(before?.status, 404, 'the node lost the container');

    await c.once('container-replicator');
    const rebuilt = (await c.onPrimaries('HEAD', ['AUTH_test', 'probe'])).find((r) => r.node === victim.node);
    assert.is(rebuilt?.status, 204);
    assert.is(rebuilt?.headers['x-container-object-count'], '20');
    assert.is(rebuilt?.headers['x-container-bytes-used'], String(20 * 12));
    assert.is(rebuilt?.headers['x-container-meta-color'], 'blue');
    const listing = (await c.listings('AUTH_test', 'probe')).find((l) => l.node === victim.node);
    assert.equal(listing?.names, expected);
  } finally {
    await c.close();
  }
});

test.run();
