import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UndiciBackendClient } from '../../../../common/http/backend-client.ts';
import { createLogger } from '../../../../common/logger.ts';
import { NeutronNetworkApi } from '../../../../compute/network-api.ts';
import { bridgeName, tapName } from '../../../../compute/network/driver/device-names.ts';
import { LinuxNetworkDriver } from '../../../../compute/network/driver/linux.ts';
import { RecordingNetworkDriver } from '../../../../compute/network/driver/recording.ts';
import { HostNetworkAgent, HostWiredNetworkApi } from '../../../../compute/network/host-agent.ts';
import { OpenStackHttp } from '../../../../compute/openstack-http.ts';
import { startNetwork, type TestNetwork } from '../../../helpers/network.ts';

/**
 * A compute host's network agent: ports bound to the host through compute's Neutron calls are
 * wired by the host's driver (the Linux driver planning, as where it may not change the host),
 * read back over Neutron's API with an admin token.
 */
let net: TestNetwork;
let http: UndiciBackendClient;
let admin: string;
let demo: string;
let networkId: string;
const logger = createLogger({ level: 'error', sink: () => {} });
test.before(async () => {
  net = await startNetwork();
  http = new UndiciBackendClient();
  admin = await net.identity.token();
  demo = await net.identity.token({ user: 'demo' });
  networkId = (await net.request('POST', '/v2.0/networks', { token: demo, body: { network: { name: 'wired' } } })).json.network.id;
  await net.request('POST', '/v2.0/subnets', { token: demo, body: { subnet: { network_id: networkId, ip_version: 4, cidr: '10.81.0.0/24' } } });
});
test.after(async () => {
  await http.close();
  await net.close();
});

const agentFor = (host: string, driver: RecordingNetworkDriver | LinuxNetworkDriver, token: string) => {
  const neutron = new OpenStackHttp('network', net.url, http);
  const agent = new HostNetworkAgent(host, { driver, neutron, auth: { token: async () => token }, logger });
  return { agent, api: new HostWiredNetworkApi(new NeutronNetworkApi(net.url, http), agent) };
};

test('a port bound to the host is planned on it (tap on the network bridge, anti-spoofing for its address), gone once deleted; ports of other hosts are not', async () => {
  const driver = new LinuxNetworkDriver({ apply: false });
  const { api } = agentFor('node-b', driver, admin);
  const port = await api.createPort(admin, { network_id: networkId, device_id: 'vm-b', device_owner: 'compute:nova', 'binding:host_id': 'node-b' });
  await api.createPort(admin, { network_id: networkId, device_id: 'vm-c', device_owner: 'compute:nova', 'binding:host_id': 'node-c' });
  let plan = await driver.current();
  assert.equal(plan.bridges, [bridgeName(networkId)]);
  assert.equal(plan.devices.map((d) => [d.name, d.bridge, d.mac, d.kind]), [[tapName(port.id), bridgeName(networkId), port.mac_address, 'tap']]);
  const ip = port.fixed_ips[0]?.ip_address as string;
  assert.ok(plan.iptables.ipv4.some((line) => line.includes(ip)), plan.iptables.ipv4.join('\n'));
  assert.is(driver.supports.applies, false, 'planned, not applied');
  assert.ok(await api.deletePort(admin, port.id));
  plan = await driver.current();
  assert.equal(plan.devices, []);
  assert.equal(plan.bridges, []);
});

test('unbinding takes the port off the host; binding an existing port puts it on', async () => {
  const driver = new RecordingNetworkDriver();
  const { api } = agentFor('node-d', driver, admin);
  const port = await api.createPort(demo, { network_id: networkId, device_id: 'vm-d' });
  assert.is(driver.syncs.length, 0, 'an unbound port wires nothing');
  await api.updatePort(admin, port.id, { device_owner: 'compute:nova', 'binding:host_id': 'node-d' });
  assert.equal((await driver.current()).devices.map((d) => d.name), [tapName(port.id)]);
  await api.updatePort(admin, port.id, { device_id: '', device_owner: '', 'binding:host_id': '' });
  assert.equal((await driver.current()).devices, []);
});

test('20 concurrent binds on one host: every port wired, in fewer syncs than binds', async () => {
  const driver = new RecordingNetworkDriver();
  const { api } = agentFor('node-e', driver, admin);
  const ports = await Promise.all(Array.from({ length: 20 }, (_, i) => api.createPort(admin, { network_id: networkId, device_id: `vm-e${i}`, device_owner: 'compute:nova', 'binding:host_id': 'node-e' })));
  assert.equal((await driver.current()).devices.map((d) => d.name), ports.map((p) => tapName(p.id)).toSorted());
  assert.ok(driver.syncs.length < 20, `${driver.syncs.length} syncs`);
});

test('a token that cannot see bindings (no admin role) changes nothing on the host', async () => {
  const driver = new RecordingNetworkDriver();
  const { agent } = agentFor('node-f', driver, demo);
  await agent.changed();
  assert.is(driver.syncs.length, 0);
});

test.run();
