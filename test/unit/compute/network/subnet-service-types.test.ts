import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNetwork } from '../../../helpers/network.ts';

test('subnet service_types: set on create and update, shown, validated as Neutron does; only ports of those owners take addresses there', async () => {
  const n = await startNetwork();
  try {
    const demo = await n.identity.token({ user: 'demo' });
    const req = (method: string, path: string, body?: unknown) => n.request(method, `/v2.0/${path}`, { token: demo, ...(body !== undefined ? { body } : {}) });
    const net = (await req('POST', 'networks', { network: { name: 'n' } })).json.network.id as string;
    const made = await req('POST', 'subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.6.0.0/24', service_types: ['compute:nova'] } });
    assert.equal([made.status, made.json.subnet.service_types], [201, ['compute:nova']]);
    const subnet = made.json.subnet.id as string;

    const plain = await req('POST', 'ports', { port: { network_id: net } });
    assert.equal([plain.status, plain.json.NeutronError.type, plain.json.NeutronError.message], [409, 'IpAddressGenerationFailureNoMatchingSubnet', `No valid service subnet for the given device owner, network ${net}, service type .`]);
    const vm = await req('POST', 'ports', { port: { network_id: net, device_owner: 'compute:nova' } });
    assert.equal([vm.status, vm.json.port.fixed_ips[0]?.subnet_id], [201, subnet]);

    const refused = async (body: unknown, type: string, message: string) => {
      const r = await req('PUT', `subnets/${subnet}`, { subnet: body });
      assert.equal([r.status, r.json.NeutronError.type, r.json.NeutronError.message], [400, type, message], JSON.stringify(body));
    };
    await refused({ service_types: 'network:dhcp' }, 'HTTPBadRequest', 'Subnet service types must be a list.');
    await refused({ service_types: ['network:dhcp', 7] }, 'InvalidInputSubnetServiceType', 'Subnet service type 7 is not a string.');
    await refused({ service_types: ['bogus:x'] }, 'InvalidSubnetServiceType', 'Subnet service type bogus:x does not correspond to a valid device owner.');
    assert.equal((await req('GET', `subnets/${subnet}`)).json.subnet.service_types, ['compute:nova'], 'unchanged');

    const set = await req('PUT', `subnets/${subnet}`, { subnet: { service_types: ['network:floatingip_agent_gateway'] } });
    assert.equal([set.status, set.json.subnet.service_types], [200, ['network:floatingip_agent_gateway']]);
    assert.equal((await req('PUT', `subnets/${subnet}`, { subnet: { service_types: [] } })).json.subnet.service_types, []);
    assert.is((await req('POST', 'ports', { port: { network_id: net } })).status, 201, 'any port again');
  } finally {
    await n.close();
  }
});

test.run();
