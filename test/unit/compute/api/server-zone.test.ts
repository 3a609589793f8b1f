import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAgent, startCompute } from '../../../helpers/compute.ts';

test("bug: a server booted without a zone said 'nova' on a host of zone az1; it has its host's zone, as Nova's conductor gives it, and so has its port's owner", async () => {
  const c = await startCompute();
  const agent = await makeAgent(c, 'node1', undefined, 'az1');
  try {
    const admin = await c.identity.token();
    const demo = await c.identity.token({ user: 'demo' });
    await agent.agent.register();
    await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
    const imageRef = c.images.add({}).id;
    const net = c.networks.addNetwork('private').id;
    const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef, flavorRef: '1', networks: [{ uuid: net }] } } })).json.server.id as string;
    await agent.agent.drain();
    const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
    assert.equal([s.status, s['OS-EXT-AZ:availability_zone']], ['ACTIVE', 'az1']);
    assert.equal([...c.networks.ports.values()].filter((p) => p.device_id === id).map((p) => p['device_owner']), ['compute:az1']);
  } finally {
    await agent.remove();
    await c.close();
  }
});

test.run();
