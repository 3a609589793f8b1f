import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { forEachPaced } from '../../common/for-each-paced.ts';
import { RingBuilder } from '../../ring/builder.ts';
import { readBuilderFile, writeBuilderFile, writeRingFile } from '../../ring/io.ts';
import { startProbeCluster } from '../../bench/process-cluster.ts';

const names = Array.from({ length: 200 }, (_, i) => `moving-${i}`);

test('a device removed from the rings and another added: after rebalance and replication every object is on its new primaries and none is lost', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    const pace = { concurrency: 16, perSecond: 0, clock: systemClock };
    await forEachPaced(names, pace, async (name) => assert.is((await c.request('PUT', `/v1/AUTH_test/probe/${name}`, {}, `body of ${name}`)).status, 201));

    // Node 4 swaps its disk: d4 leaves every ring, d5 (on the same server) joins.
    await mkdir(join(c.layout.devices(4), 'd5'));
    for (const kind of ['account', 'container', 'object'] as const) {
      const builder = RingBuilder.fromData(readBuilderFile(join(c.layout.etc, `${kind}.builder`)), systemClock);
      const old = builder.devices.find((d) => d.device === 'd4');
      assert.ok(old);
      builder.removeDevice(old.id);
      builder.addDevice({ region: 1, zone: 4, ip: old.ip, port: old.port, device: 'd5', weight: 100 });
      builder.rebalance({ seed: 2 });
      await writeBuilderFile(join(c.layout.etc, `${kind}.builder`), builder.toData());
      await writeRingFile(join(c.layout.etc, `${kind}.ring.gz`), builder.ringData());
    }
    await c.restartAll();
    await c.once('object-replicator');
    await c.once('container-replicator');
    await c.once('account-replicator');

    const misplaced: string[] = [];
    await forEachPaced(names, pace, async (name) => {
      for (const r of await c.onPrimaries('HEAD', ['AUTH_test', 'probe', name])) if (r.status !== 200) misplaced.push(`${name} not on node${r.node}`);
      const got = await c.request('GET', `/v1/AUTH_test/probe/${name}`);
      if (got.body.toString() !== `body of ${name}`) misplaced.push(`${name} lost: ${got.status}`);
    });
    assert.equal(misplaced, []);
    const leftovers = await readdir(join(c.layout.devices(4), 'd4', 'objects')).catch(() => []);
    assert.equal(leftovers, [], 'the removed device handed everything off');
    for (const listing of await c.listings('AUTH_test', 'probe')) assert.is(listing.names?.length, names.length, `node${listing.node}'s listing`);
  } finally {
    await c.close();
  }
});

test.run();
