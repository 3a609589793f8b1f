import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HostNetworkConfig, NetworkDriver, PortBinding, SecurityGroupRule } from '../../compute/network/driver/types.ts';

/**
 * The contract of `NetworkDriver` (compute/network/driver/types.ts). `observe` says what the
 * host has now: for the Linux driver the real devices and iptables of a network namespace of
 * the test's own, for the recording twin what it recorded; the same expectations hold for both.
 */
export interface HostView {
  readonly bridges: readonly string[];
  /** Host-side devices of ports (`tap...`), sorted. */
  readonly devices: readonly string[];
  /** Our chains (`neutron-linuxbri-*`), sorted. */
  readonly chains: readonly string[];
  /** `-A <chain> ...` lines of the IPv4 filter table, ours only. */
  readonly rules: readonly string[];
}

export interface NetworkDriverHarness {
  readonly driver: NetworkDriver;
  observe(): Promise<HostView>;
  cleanup(): Promise<void>;
}

const NET = '5e3d6a2c-1f4b-4c8e-9a7d-0b1c2d3e4f50';
const SG = 'c0ffee00-0000-4000-8000-000000000001';

const server: PortBinding = {
  id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  networkId: NET,
  macAddress: 'fa:16:3e:11:22:33',
  fixedIps: ['10.0.0.5'],
  deviceOwner: 'compute:nova',
  deviceId: 'server-1',
  securityGroups: [SG],
  portSecurityEnabled: true,
};
const dhcp: PortBinding = { ...server, id: 'd0d0d0d0-0000-4000-8000-000000000002', macAddress: 'fa:16:3e:00:00:02', fixedIps: ['10.0.0.2'], deviceOwner: 'network:dhcp', deviceId: 'dhcp-1', securityGroups: [] };
const rule = (changes: Partial<SecurityGroupRule>): SecurityGroupRule => ({ id: 'r', securityGroupId: SG, direction: 'ingress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null, ...changes });
const rules: SecurityGroupRule[] = [
  rule({ id: 'ssh', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' }),
  rule({ id: 'ping', protocol: 'icmp', remoteIpPrefix: '192.168.0.0/16' }),
  rule({ id: 'peers', remoteGroupId: SG }),
  rule({ id: 'out', direction: 'egress' }),
];
const config = (ports: PortBinding[]): HostNetworkConfig => ({ ports, rules, members: { [SG]: ['10.0.0.5', '10.0.0.7'] } });
const chainOf = (kind: string, port: PortBinding) => `neutron-linuxbri-${kind}${port.id.slice(0, 10)}`;

export function networkDriverSuite(name: string, factory: () => Promise<NetworkDriverHarness>): void {
  const test = suite(`NetworkDriver conformance: ${name}`);
  let h: NetworkDriverHarness;

  test.before.each(async () => {
    h = await factory();
  });
  test.after.each(async () => {
    await h.cleanup();
  });

  test('a server port and a DHCP port: the network\'s bridge, a tap and a veth, the server\'s chains', async () => {
    const result = await h.driver.sync(config([server, dhcp]));
    assert.is(result.applied, h.driver.supports.applies);
    const view = await h.observe();
    assert.equal(view.bridges, ['brq5e3d6a2c-1f']);
    // The guest's tap is the hypervisor's to create; the DHCP port's veth is the driver's.
    assert.ok(view.devices.includes('tapd0d0d0d0-00'), view.devices.join());
    for (const chain of ['i', 'o', 's']) assert.ok(view.chains.includes(chainOf(chain, server)), `${chain}: ${view.chains.join()}`);
    assert.not.ok(view.chains.some((c) => c.endsWith('d0d0d0d0-0')), 'Neutron\'s own ports are not filtered');
  });

  test('security group rules become RETURNs in the port\'s chains, with anti-spoofing on the way out', async () => {
    await h.driver.sync(config([server, dhcp]));
    const { rules: lines } = await h.observe();
    const ingress = lines.filter((l) => l.startsWith(`-A ${chainOf('i', server)} `));
    assert.ok(ingress.some((l) => /-p tcp -m tcp --dport 22 -j RETURN$/.test(l)), ingress.join('\n'));
    assert.ok(ingress.some((l) => /-s 192\.168\.0\.0\/16 -p icmp -j RETURN$/.test(l)), ingress.join('\n'));
    // The remote group's other member, not the port itself.
    assert.ok(ingress.some((l) => l.includes('-s 10.0.0.7/32 -j RETURN')), ingress.join('\n'));
    assert.not.ok(ingress.some((l) => l.includes('-s 10.0.0.5/32')), ingress.join('\n'));
    assert.ok(ingress.at(-1)?.endsWith('-j neutron-linuxbri-sg-fallback'), ingress.at(-1));
    const spoof = lines.filter((l) => l.startsWith(`-A ${chainOf('s', server)} `));
    assert.ok(spoof.some((l) => /-s 10\.0\.0\.5\/32 -m mac --mac-source fa:16:3e:11:22:33 -j RETURN/i.test(l)), spoof.join('\n'));
    assert.ok(spoof.at(-1)?.endsWith('-j DROP'));
    assert.ok(lines.includes('-A neutron-linuxbri-sg-fallback -j DROP'));
  });

  test('the same config again changes nothing', async () => {
    await h.driver.sync(config([server, dhcp]));
    const before = await h.observe();
    const again = await h.driver.sync(config([server, dhcp]));
    assert.equal(again.changes, { addedBridges: [], removedBridges: [], addedDevices: [], removedDevices: [], firewallChanged: false });
    assert.equal(await h.observe(), before);
  });

  test('a port that leaves takes its chains; the last port of a network takes its bridge', async () => {
    await h.driver.sync(config([server, dhcp]));
    const without = await h.driver.sync(config([dhcp]));
    assert.equal(without.changes.removedDevices, ['tapa1b2c3d4-e5']);
    assert.ok(without.changes.firewallChanged);
    let view = await h.observe();
    assert.not.ok(view.chains.some((c) => c.endsWith(server.id.slice(0, 10))), view.chains.join());
    assert.equal(view.bridges, ['brq5e3d6a2c-1f']);
    await h.driver.sync(config([]));
    view = await h.observe();
    assert.equal(view.bridges, []);
    assert.equal(view.devices, []);
    assert.equal(await h.driver.current(), (await h.driver.sync(config([]))).plan);
  });

  test('a port without port security is let through unfiltered', async () => {
    await h.driver.sync(config([{ ...server, portSecurityEnabled: false }]));
    const view = await h.observe();
    assert.not.ok(view.chains.includes(chainOf('i', server)));
    assert.ok(view.rules.includes('-A neutron-linuxbri-FORWARD -m physdev --physdev-out tapa1b2c3d4-e5 --physdev-is-bridged -j ACCEPT'), view.rules.join('\n'));
  });

  test.run();
}
