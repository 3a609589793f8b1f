import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { httpRequest } from '../helpers/http.ts';
import { startProbeCluster } from '../../bench/process-cluster.ts';

test('an object file corrupted on one node: the auditor quarantines it, the replicator restores a good copy', async () => {
  const c = await startProbeCluster();
  try {
    const body = randomBytes(300 * 1024);
    const md5 = createHash('md5').update(body).digest('hex');
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe')).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/probe/precious', {}, body)).status, 201);

    const names = ['AUTH_test', 'probe', 'precious'];
    const { partition, nodes } = c.rings().object.getNodes('AUTH_test', 'probe', 'precious');
    const victim = nodes[1];
    assert.ok(victim);
    const n = c.nodeOf(victim);
    const hash = c.hashPath.hash('AUTH_test', 'probe', 'precious');
    const hashDir = join(c.layout.devices(n), victim.device, 'objects', String(partition), hash.slice(-3), hash);
    const data = (await readdir(hashDir)).find((f) => f.endsWith('.data'));
    assert.ok(data, 'the replica is on disk');
    // Bit rot in the middle of the body: the sizes and metadata still look right.
    const file = await open(join(hashDir, data), 'r+');
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, 150_000);
    byte[0] = (byte[0] as number) ^ 0xff;
    await file.write(byte, 0, 1, 150_000);
    await file.close();

    await c.once('object-auditor');
    const after = await c.direct(victim, 'GET', partition, names);
    assert.is(after.status, 404, 'the corrupt replica is out of service');
    const recon = await httpRequest(victim.port, 'GET', '/recon/quarantined');
    // Swift's shape: totals, and objects per storage policy (the aio cluster has gold and silver).
    assert.equal(JSON.parse(recon.body.toString()), { objects: 1, containers: 0, accounts: 0, policies: { '0': { objects: 1 }, '1': { objects: 0 } } });
    assert.is((await c.request('GET', '/v1/AUTH_test/probe/precious')).headers['etag'], md5, 'the proxy serves a good replica meanwhile');
    const status = await c.swiftlet(['status']);
    assert.is(status.code, 0, status.output);
    assert.match(status.output, new RegExp(`^node${n} .* up +0 +1/0/0 `, 'm'), 'swiftlet status shows the quarantined object');
    assert.match(status.output, /rings: every node has the same rings/);

    await c.once('object-replicator');
    for (const r of await c.onPrimaries('GET', names)) {
      assert.is(r.status, 200, `node${r.node}`);
      assert.is(createHash('md5').update(r.body).digest('hex'), md5, `node${r.node} has the original bytes`);
    }
  } finally {
    await c.close();
  }
});

test.run();
