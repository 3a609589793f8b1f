import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ComputeWithHosts, startComputeWithHosts } from '../../../helpers/compute.ts';

/** `openstack aggregate ...`: Nova's os-aggregates, and the zones an aggregate gives its hosts. */
test("aggregates give their hosts a zone that zone listings, services, the scheduler and new servers follow; Nova's refusals keep zones consistent", async () => {
  const h = await startComputeWithHosts({ node1: 'nova', node2: 'nova' });
  const { c, admin, demo, imageRef } = h;
  const node1 = h.agents['node1'] as ComputeWithHosts['agents'][string];
  try {
    const req = (method: string, path: string, body?: unknown, version = '2.1', token = admin) => c.request(method, `/v2.1/os-aggregates${path}`, { token, version, ...(body !== undefined ? { body } : {}) });
    const message = (r: { status: number; json: Record<string, { message: string }> }) => [r.status, Object.values(r.json)[0]?.message];
    const zones = async () => Object.fromEntries((await c.request('GET', '/v2.1/os-availability-zone/detail', { token: admin })).json.availabilityZoneInfo.map((z: { zoneName: string; hosts: Record<string, unknown> }) => [z.zoneName, Object.keys(z.hosts)]));

    assert.equal(message(await req('GET', '', undefined, '2.1', demo)), [403, "Policy doesn't allow os_compute_api:os-aggregates:index to be performed."]);
    const created = await req('POST', '', { aggregate: { name: 'fast', availability_zone: 'az1' } });
    assert.is(created.status, 200);
    const a = created.json.aggregate;
    assert.equal([a.name, a.availability_zone, a.deleted, a.hosts, a.metadata, a.uuid], ['fast', 'az1', false, undefined, undefined, undefined], 'the create answer has no hosts or metadata; uuid from 2.41');
    assert.equal(message(await req('POST', '', { aggregate: { name: 'fast' } })), [409, 'Aggregate fast already exists.']);
    assert.equal(message(await req('POST', '', { aggregate: { name: 'bad', availability_zone: 'a:b' } }))[0], 400);
    assert.equal(message(await req('GET', '/abc')), [400, 'Invalid input received: id must be an integer']);
    assert.equal(message(await req('GET', '/99')), [404, 'Aggregate 99 could not be found.']);

    const added = await req('POST', `/${a.id}/action`, { add_host: { host: 'node1' } }, '2.41');
    assert.is(added.status, 200);
    assert.equal([added.json.aggregate.hosts, added.json.aggregate.metadata, typeof added.json.aggregate.uuid], [['node1'], { availability_zone: 'az1' }, 'string']);
    assert.equal(message(await req('POST', `/${a.id}/action`, { add_host: { host: 'node1' } })), [409, `Aggregate ${a.id} already has host node1.`]);
    assert.equal(message(await req('POST', `/${a.id}/action`, { add_host: { host: 'node9' } })), [404, 'Compute host node9 could not be found.']);
    assert.equal(await zones(), { az1: ['node1'], nova: ['node2'] });
    const services = (await c.request('GET', '/v2.1/os-services?binary=nova-compute', { token: admin })).json.services.map((s: { host: string; zone: string }) => [s.host, s.zone]);
    assert.equal(services.sort(), [['node1', 'az1'], ['node2', 'nova']]);
    await node1.agent.register();
    assert.equal(await zones(), { az1: ['node1'], nova: ['node2'] }, "an agent's restart keeps the aggregate's zone");

    // The scheduler: a boot into az1 lands on node1; one without a zone takes its host's.
    const boot = async (name: string, zone?: string) => (await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name, imageRef, flavorRef: '1', networks: 'none', ...(zone ? { availability_zone: zone } : {}) } } })).json.server.id as string;
    const id = await boot('in-az1', 'az1');
    await h.drain();
    const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: admin })).json.server;
    assert.equal([s.status, s['OS-EXT-SRV-ATTR:host'], s['OS-EXT-AZ:availability_zone']], ['ACTIVE', 'node1', 'az1']);

    // Refusals that would move the server's host to another zone, or give a host two.
    const other = (await req('POST', '', { aggregate: { name: 'slow', availability_zone: 'az2' } })).json.aggregate;
    assert.equal(message(await req('POST', `/${other.id}/action`, { add_host: { host: 'node1' } })), [409, `Cannot add host to aggregate ${other.id}. Reason: One or more hosts already in availability zone(s) ['az1'].`]);
    assert.equal(message(await req('POST', `/${a.id}/action`, { set_metadata: { metadata: { availability_zone: 'az3' } } })), [400, `Cannot update metadata of aggregate ${a.id}. Reason: One or more hosts contain instances in this zone.`]);
    assert.equal(message(await req('PUT', `/${a.id}`, { aggregate: { availability_zone: null } })), [400, `Cannot update aggregate ${a.id}. Reason: Aggregate fast does not support empty named availability zone.`]);
    const removal = await req('POST', `/${a.id}/action`, { remove_host: { host: 'node1' } });
    assert.is(removal.status, 409);
    assert.match(message(removal)[1] as string, /^Cannot remove host from aggregate \d+\. Reason: The host cannot be removed from the aggregate as the availability zone of the host would change from 'az1' to 'None' but the host already has 1 instance\(s\)\./);
    assert.equal(message(await req('DELETE', `/${a.id}`)), [400, `Cannot remove host from aggregate ${a.id}. Reason: Host aggregate is not empty.`]);

    // Metadata: set and unset (null); rename.
    const meta = await req('POST', `/${a.id}/action`, { set_metadata: { metadata: { ssd: 'true', gpu: 'no' } } });
    assert.equal(meta.json.aggregate.metadata, { availability_zone: 'az1', ssd: 'true', gpu: 'no' });
    assert.equal((await req('POST', `/${a.id}/action`, { set_metadata: { metadata: { gpu: null } } })).json.aggregate.metadata, { availability_zone: 'az1', ssd: 'true' });
    assert.equal(message(await req('PUT', `/${a.id}`, { aggregate: { name: 'slow' } })), [409, 'Aggregate slow already exists.']);
    const renamed = await req('PUT', `/${a.id}`, { aggregate: { name: 'faster' } });
    assert.equal([renamed.status, renamed.json.aggregate.name], [200, 'faster']);
    assert.is((await req('POST', '', { aggregate: { name: 'fast' } })).status, 200, 'the old name is free again');

    // With the server gone the host leaves, back in its own zone; the empty aggregate goes.
    assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
    await node1.agent.drain();
    assert.is((await req('POST', `/${a.id}/action`, { remove_host: { host: 'node1' } })).status, 200);
    assert.equal(await zones(), { nova: ['node1', 'node2'] });
    assert.equal(message(await req('POST', `/${a.id}/action`, { remove_host: { host: 'node1' } })), [404, `Cannot remove host node1 in aggregate ${a.id}`]);
    assert.is((await req('DELETE', `/${a.id}`)).status, 200);
    assert.is((await req('GET', `/${a.id}`)).status, 404);
    assert.equal((await req('GET', '')).json.aggregates.map((x: { name: string }) => x.name), ['slow', 'fast']);
  } finally {
    await h.close();
  }
});

test.run();
