import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeDomain } from '../../../../compute/agent/hypervisor/domain-description.ts';
import { COMPUTE_SERVICE_TOKEN, type ServerOnAgent, startServerOnAgent } from '../../../helpers/compute.ts';

/**
 * os-interface: `openstack server add network`, `add port`, `remove port`, `remove network`,
 * as Nova's API and compute host do them, on a memory hypervisor and the fake Neutron.
 */
const IMAGE = Buffer.alloc(4096, 'image ');

/** POST os-interface while the host's agent works its queue (the API waits for its answer, as Nova's RPC call). */
async function attach(s: ServerOnAgent, body: unknown, version = '2.1', token = s.demo) {
  let done = false;
  const res = s.c.request('POST', `/v2.1/servers/${s.id}/os-interface`, { token, body, version }).finally(() => {
    done = true;
  });
  // The task is queued some steps into the request: work the queue until the answer comes.
  while (!done) {
    await s.agent.agent.drain();
    await new Promise((r) => setTimeout(r, 10));
  }
  return res;
}

const macsIn = async (s: ServerOnAgent, inactive: boolean) => {
  const xml = await s.agent.hypervisor.domainXml(`instance-${s.id}`, { inactive });
  return [...xml.matchAll(/<mac address=['"]([0-9a-f:]+)['"]/g)].map((m) => m[1]);
};

test('add network makes a port there, bound to the host and plugged into the guest; add port takes the user\'s; remove gives each back as Nova does', async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    const list = async (version = '2.1') => (await c.request('GET', `/v2.1/servers/${id}/os-interface`, { token: demo, version })).json.interfaceAttachments;
    const [boot] = await list();
    assert.equal(Object.keys(boot).sort(), ['fixed_ips', 'mac_addr', 'net_id', 'port_id', 'port_state']);
    const other = c.networks.addNetwork('other').id;

    const added = await attach(s, { interfaceAttachment: { net_id: other } });
    assert.is(added.status, 200, JSON.stringify(added.json));
    const a = added.json.interfaceAttachment;
    assert.is(a.net_id, other);
    const made = c.networks.ports.get(a.port_id);
    assert.equal([made?.device_id, made?.['device_owner'], made?.['binding:host_id']], [id, 'compute:nova', 'node1']);
    assert.equal(await macsIn(s, true), [boot.mac_addr, a.mac_addr], 'the definition has both NICs');
    assert.equal(await macsIn(s, false), [boot.mac_addr, a.mac_addr], 'and the running guest');
    const server = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
    assert.equal(server.addresses.other.map((x: { addr: string }) => x.addr), made?.fixed_ips.map((f) => f.ip_address));

    const mine = await c.networks.createPort(demo, { network_id: other, name: 'mine' });
    const tagged = await attach(s, { interfaceAttachment: { port_id: mine.id, tag: 'eth2' } }, '2.70');
    assert.is(tagged.status, 200, JSON.stringify(tagged.json));
    assert.equal([tagged.json.interfaceAttachment.port_id, tagged.json.interfaceAttachment.tag], [mine.id, 'eth2']);
    assert.equal((await list('2.70')).map((x: { tag: string | null }) => x.tag), [null, null, 'eth2']);
    assert.equal((await c.request('GET', `/v2.1/servers/${id}/os-interface/${mine.id}`, { token: demo })).json.interfaceAttachment.port_id, mine.id);

    // Remove: the user's port stays, unbound and free; the one compute made is deleted.
    assert.is((await c.request('DELETE', `/v2.1/servers/${id}/os-interface/${mine.id}`, { token: demo })).status, 202);
    assert.is((await c.request('DELETE', `/v2.1/servers/${id}/os-interface/${a.port_id}`, { token: demo })).status, 202);
    await s.agent.agent.drain();
    const kept = c.networks.ports.get(mine.id);
    assert.equal([kept?.device_id, kept?.['binding:host_id']], ['', '']);
    assert.is(c.networks.ports.has(a.port_id), false);
    assert.equal(await macsIn(s, true), [boot.mac_addr]);
    assert.equal(await macsIn(s, false), [boot.mac_addr]);
    assert.equal(Object.keys((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.addresses), ['private']);
    const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((x: { action: string }) => x.action);
    assert.equal(actions.slice(0, 4), ['detach_interface', 'detach_interface', 'attach_interface', 'attach_interface']);
    const request = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin })).json.instanceActions.find((x: { action: string }) => x.action === 'attach_interface').request_id;
    const events = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions/${request}`, { token: admin })).json.instanceAction.events;
    assert.equal(events.map((e: { event: string; result: string }) => [e.event, e.result]), [['compute_attach_interface', 'Success']]);

    // A stopped server takes a NIC into its definition.
    assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body: { 'os-stop': null } })).status, 202);
    await s.agent.agent.drain();
    const cold = await attach(s, { interfaceAttachment: { net_id: other } });
    assert.is(cold.status, 200);
    assert.equal(await macsIn(s, true), [boot.mac_addr, cold.json.interfaceAttachment.mac_addr]);
    assert.is(describeDomain(await s.agent.hypervisor.domainXml(`instance-${id}`, { inactive: true })).disks.length, 1);
  } finally {
    await s.close();
  }
});

test("Nova's refusals: the schema, both or neither of network and port, a port in use or unknown, a network unknown, a lock, a port not attached; nothing made", async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    const ports = () => c.networks.ports.size;
    const before = ports();
    const post = async (body: unknown, version = '2.1') => {
      const r = await c.request('POST', `/v2.1/servers/${id}/os-interface`, { token: demo, body, version });
      return [r.status, Object.values(r.json ?? {})[0] as { message: string } | undefined].map((x) => (typeof x === 'object' && x !== null ? x.message : x));
    };
    const other = c.networks.addNetwork('other').id;
    const [boot] = (await c.request('GET', `/v2.1/servers/${id}/os-interface`, { token: demo })).json.interfaceAttachments;
    assert.equal(await post({ interfaceAttachment: { net_id: 'x' } }), [400, "Invalid input for field/attribute net_id. Value: x. 'x' is not a 'uuid'"]);
    assert.equal(await post({ interfaceAttachment: { net_id: other, tag: 'a' } }), [400, `Invalid input for field/attribute interfaceAttachment. Value: {'net_id': '${other}', 'tag': 'a'}. Additional properties are not allowed ('tag' was unexpected)`]);
    assert.equal(await post({ interfaceAttachment: { net_id: other, fixed_ips: [{ ip_address: '10.0.0.999' }] } }), [400, "Invalid input for field/attribute ip_address. Value: 10.0.0.999. '10.0.0.999' is not valid under any of the given schemas"]);
    assert.equal(await post({ interfaceAttachment: { net_id: other, port_id: boot.port_id } }), [400, 'Must not input both network_id and port_id']);
    assert.equal(await post({ interfaceAttachment: { port_id: boot.port_id, fixed_ips: [{ ip_address: '10.0.0.9' }] } }), [400, 'Must input network_id when request IP address']);
    assert.equal(await post({ interfaceAttachment: { port_id: boot.port_id } }), [409, `Port ${boot.port_id} is still in use.`]);
    const unknown = '5a0f5b6e-1111-4a5a-9d6e-0c8d2f7e6a01';
    assert.equal(await post({ interfaceAttachment: { port_id: unknown } }), [404, `Port id ${unknown} could not be found.`]);
    assert.equal(await post({ interfaceAttachment: { net_id: unknown } }), [404, `Network ${unknown} could not be found.`]);
    assert.equal(await post({ interfaceAttachment: {} }), [400, 'More than one possible network found. Specify network ID(s) to select which one(s) to connect to.']);
    assert.equal((await c.request('DELETE', `/v2.1/servers/${id}/os-interface/${unknown}`, { token: demo })).json.itemNotFound.message, `Port ${unknown} is not attached`);
    assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: admin, body: { lock: null } })).status, 202);
    assert.equal(await post({ interfaceAttachment: { net_id: other } }), [409, `Instance ${id} is locked`]);
    assert.is(ports(), before, 'no port made');
    assert.is(c.networks.adminTokens.has(COMPUTE_SERVICE_TOKEN), true);
  } finally {
    await s.close();
  }
});

test.run();
