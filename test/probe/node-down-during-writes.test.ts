import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startProbeCluster } from '../../bench/process-cluster.ts';
import { systemClock } from '../../common/clock.ts';
import { forEachPaced } from '../../common/for-each-paced.ts';

const COUNT = 1000;
const names = Array.from({ length: COUNT }, (_, i) => `obj-${String(i).padStart(4, '0')}`);

test('a storage node killed while 1,000 objects are written: after it returns and replication runs, every primary holds every object and every listing has 1,000 rows', async () => {
  const c = await startProbeCluster();
  try {
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    // Kill a container primary, so listings as well as objects have a replica to repair.
    const victim = (await c.onPrimaries('HEAD', ['AUTH_test', 'probe']))[0]?.node as number;
    let written = 0;
    let killed: Promise<void> | undefined;
    const statuses = new Map<number, number>();
    await forEachPaced(names, { concurrency: 16, perSecond: 0, clock: systemClock }, async (name) => {
      const res = await c.request('PUT', `/v1/AUTH_test/probe/${name}`, {}, `body of ${name}`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (++written === 300) killed = c.kill(victim);
    });
    await killed;
    assert.equal([...statuses], [[201, COUNT]], 'every write succeeded with a node down');

    await c.start(victim);
    await c.once('all');

    const missing: string[] = [];
    await forEachPaced(names, { concurrency: 32, perSecond: 0, clock: systemClock }, async (name) => {
      for (const r of await c.onPrimaries('HEAD', ['AUTH_test', 'probe', name])) if (r.status !== 200) missing.push(`${name} on node${r.node}: ${r.status}`);
    });
    assert.equal(missing, [], 'every primary holds every object');
    for (const listing of await c.listings('AUTH_test', 'probe')) {
      assert.is(listing.names?.length, COUNT, `node${listing.node}'s listing`);
    }
    for (const r of await c.onPrimaries('HEAD', ['AUTH_test', 'probe'])) {
      assert.is(r.headers['x-container-object-count'], String(COUNT), `node${r.node}'s object count`);
    }
  } finally {
    await c.close();
  }
});

test.run();
