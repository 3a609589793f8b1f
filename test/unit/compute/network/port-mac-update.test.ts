import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

test("port set --mac-address: an admin changes an unbound port's MAC; the old one is free again, a taken one is 409, a bound port or a member is refused", async () => {
  const n = await startNetwork();
  try {
    const admin = await n.identity.token();
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, token: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', demo, { network: { name: 'n' } })).json.network.id as string;
    await req('POST', 'subnets', demo, { subnet: { network_id: net, ip_version: 4, cidr: '10.5.0.0/24' } });
    const port = (await req('POST', 'ports', demo, { port: { network_id: net } })).json.port;
    const other = (await req('POST', 'ports', demo, { port: { network_id: net } })).json.port;

    const byMember = await req('PUT', `ports/${port.id}`, demo, { port: { mac_address: '11:22:33:44:55:66' } });
    assert.equal([byMember.status, byMember.json.NeutronError.type, byMember.json.NeutronError.message], [403, 'PolicyNotAuthorized', 'rule:update_port:mac_address is disallowed by policy']);
    const set = await req('PUT', `ports/${port.id}`, admin, { port: { mac_address: '11:22:33:44:55:66' } });
    assert.equal([set.status, set.json.port.mac_address], [200, '11:22:33:44:55:66']);
    assert.is((await req('GET', `ports/${port.id}`, demo)).json.port.mac_address, '11:22:33:44:55:66');
    // The old MAC is free: a new port may take it.
    assert.is((await req('POST', 'ports', demo, { port: { network_id: net, mac_address: port.mac_address } })).status, 201);

    const taken = await req('PUT', `ports/${port.id}`, admin, { port: { mac_address: other.mac_address } });
    assert.equal([taken.status, taken.json.NeutronError.type, taken.json.NeutronError.message], [409, 'MacAddressInUse', `Unable to complete operation for network ${net}. The mac address ${other.mac_address} is in use.`]);
    const bad = await req('PUT', `ports/${port.id}`, admin, { port: { mac_address: 'zz' } });
    assert.is(bad.status, 400);

    assert.is((await req('PUT', `ports/${other.id}`, admin, { port: { 'binding:host_id': 'host1' } })).status, 200);
    const bound = await req('PUT', `ports/${other.id}`, admin, { port: { mac_address: '11:22:33:44:55:77' } });
    assert.equal([bound.status, bound.json.NeutronError.type], [409, 'PortBound']);
    assert.equal(
      [(await req('GET', `ports/${port.id}`, admin)).json.port.mac_address, (await req('GET', `ports/${other.id}`, admin)).json.port.mac_address],
      ['11:22:33:44:55:66', other.mac_address],
      'the refusals changed nothing',
    );
    // The MAC the bound port was refused stays free.
    assert.is((await req('POST', 'ports', demo, { port: { network_id: net, mac_address: '11:22:33:44:55:77' } })).status, 201);
  } finally {
    await n.close();
  }
});

test.run();
