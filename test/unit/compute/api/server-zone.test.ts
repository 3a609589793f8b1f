import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startComputeWithHosts } from '../../../helpers/compute.ts';

test("bug: a server booted without a zone said 'nova' on a host of zone az1; it has its host's zone, as Nova's conductor gives it, and so has its port's owner", async () => {
  const h = await startComputeWithHosts({ node1: 'az1' });
  const { c, demo, imageRef } = h;
  try {
    const net = c.networks.addNetwork('private').id;
    const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef, flavorRef: '1', networks: [{ uuid: net }] } } })).json.server.id as string;
    await h.drain();
    const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
    assert.equal([s.status, s['OS-EXT-AZ:availability_zone']], ['ACTIVE', 'az1']);
    assert.equal([...c.networks.ports.values()].filter((p) => p.device_id === id).map((p) => p['device_owner']), ['compute:az1']);
  } finally {
    await h.close();
  }
});

test("an admin's zone:host forces the host (the zone kept only if it is the host's); 2.74's host and hypervisor_hostname ask for one; Nova's refusals", async () => {
  const h = await startComputeWithHosts({ node1: 'az1', node2: 'nova' });
  const { c, admin, demo, imageRef } = h;
  try {
    const boot = (server: Record<string, unknown>, version = '2.37', token = admin) => c.request('POST', '/v2.1/servers', { token, version, body: { server: { name: 'vm', imageRef, flavorRef: '1', networks: 'none', ...server } } });
    const placed = async (res: { json: { server: { id: string } } }) => {
      await h.drain();
      const s = (await c.request('GET', `/v2.1/servers/${res.json.server.id}`, { token: admin })).json.server;
      return [s.status, s['OS-EXT-SRV-ATTR:host'], s['OS-EXT-AZ:availability_zone']];
    };
    const message = (r: { status: number; json: Record<string, { message: string }> }) => [r.status, Object.values(r.json)[0]?.message];
    assert.equal(await placed(await boot({ availability_zone: 'nova:node1' })), ['ACTIVE', 'node1', 'az1'], "node1 is in az1, so the zone asked for is dropped");
    assert.equal(await placed(await boot({ availability_zone: ':node2' })), ['ACTIVE', 'node2', 'nova']);
    assert.equal(await placed(await boot({ availability_zone: 'az1::node1' })), ['ACTIVE', 'node1', 'az1']);
    assert.equal(message(await boot({ availability_zone: 'az1:node1' }, '2.37', demo)), [403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."]);
    assert.equal(message(await boot({ availability_zone: 'a:b:c:d' })), [400, 'Invalid input received: Unable to parse availability_zone']);

    assert.equal(await placed(await boot({ host: 'node2' }, '2.74')), ['ACTIVE', 'node2', 'nova']);
    assert.equal(await placed(await boot({ hypervisor_hostname: 'node1' }, '2.74')), ['ACTIVE', 'node1', 'az1']);
    assert.equal(message(await boot({ host: 'node2' }, '2.74', demo)), [403, "Policy doesn't allow compute:servers:create:requested_destination to be performed."]);
    assert.equal(message(await boot({ host: 'node9' }, '2.74')), [400, 'Compute host node9 could not be found.']);
    assert.equal(message(await boot({ host: 'node1', availability_zone: 'az1:node1' }, '2.74')), [400, 'One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.']);
    assert.equal(message(await boot({ host: 'node1' }, '2.73'))[0], 400);
    const full = await placed(await boot({ host: 'node2', availability_zone: 'az1' }, '2.74'));
    assert.equal([full[0], full[1]], ['ERROR', null], 'node2 is not in az1: the filters leave no host');
  } finally {
    await h.close();
  }
});

test.run();
