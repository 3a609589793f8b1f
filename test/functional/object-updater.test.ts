import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backendPath } from '../../common/http/backend-client.ts';
import { startCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

test('container replicas that missed an object write get its row from the async pending', async () => {
  const c = await startCluster();
  try {
    await c.request('PUT', '/v1/AUTH_test/pend');
    const part = c.rings.container.getPart('AUTH_test', 'pend');
    const containerNodes = c.rings.container.getPartNodes(part).map((d) => c.nodes.findIndex((n) => n.ports.container === d.port) + 1);
    // Two container replicas are down while the object is written: their updates fail.
    await c.stopNode(containerNodes[0] as number);
    await c.stopNode(containerNodes[1] as number);
    assert.is((await c.request('PUT', '/v1/AUTH_test/pend/late', {}, 'row me')).status, 201);
    await c.startNode(containerNodes[0] as number);
    await c.startNode(containerNodes[1] as number);
    const rowsOn = async (n: number): Promise<string[]> => {
      const node = c.nodes[n - 1] as (typeof c.nodes)[number];
      const res = await httpRequest(node.ports.container, 'GET', `${backendPath(node.device, part, 'AUTH_test', 'pend')}?format=json`);
      return (JSON.parse(res.body.toString() || '[]') as { name: string }[]).map((r) => r.name);
    };
    assert.equal(await rowsOn(containerNodes[0] as number), [], 'the row is missing before the updater runs');

    await c.runDaemons('object-updater');

    for (const n of containerNodes) assert.equal(await rowsOn(n), ['late'], `container replica on node ${n}`);
    // Delivered pendings are gone: a second pass sends nothing.
    await c.runDaemons('object-updater');
    const reports = c.nodes.flatMap((n) => n.running?.daemons ?? []).filter((d) => d.name === 'object-updater').map((d) => d.recon().lastPass);
    assert.ok(reports.every((r) => (r['successes'] ?? 0) === 0 && (r['failures'] ?? 0) === 0));
  } finally {
    await c.close();
  }
});

test.run();
