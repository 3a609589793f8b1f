import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CommandRunner, execRunner, LinuxNetworkDriver } from '../../../../../compute/network/driver/linux.ts';
import { networkDriverSuite } from '../../../../conformance/network-driver.ts';

/**
 * The Linux driver applied for real, inside a network namespace of each test's own (`ip netns`,
 * root: CI runs as root), so the host's own links and iptables are never touched.
 */
networkDriverSuite('linux (applied in a network namespace)', async () => {
  const ns = `swiftlet-test-${randomBytes(4).toString('hex')}`;
  await execRunner('ip', ['netns', 'add', ns]);
  // Namespaces are named host-wide (a bind mount each), so `ip netns` itself runs outside.
  const inNs: CommandRunner = (command, args, stdin) =>
    command === 'ip' && args[0] === 'netns' ? execRunner(command, args, stdin) : execRunner('ip', ['netns', 'exec', ns, command, ...args], stdin);
  const driver = new LinuxNetworkDriver({ apply: true, run: inNs });
  return {
    driver,
    observe: async () => {
      const links = JSON.parse(await inNs('ip', ['-d', '-j', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
      const lines = (await inNs('iptables', ['-S'])).split('\n');
      return {
        bridges: links.filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname).sort(),
        devices: links.filter((l) => l.ifname.startsWith('tap')).map((l) => l.ifname).sort(),
        chains: lines.filter((l) => l.startsWith('-N neutron-linuxbri-')).map((l) => l.slice(3)).sort(),
        rules: lines.filter((l) => l.startsWith('-A neutron-linuxbri-')),
      };
    },
    cleanup: async () => {
      // A DHCP namespace left by a failed test goes too.
      for (const name of (await execRunner('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '')) {
        if (name.startsWith('qdhcp-5e3d6a2c')) await execRunner('ip', ['netns', 'del', name]);
      }
      await execRunner('ip', ['netns', 'del', ns]);
    },
  };
});

test('without leave to apply, the Linux driver only plans: no command runs', async () => {
  const ran: string[] = [];
  const driver = new LinuxNetworkDriver({ apply: false, run: async (c, a) => {
    ran.push(`${c} ${a.join(' ')}`);
    return '';
  } });
  const result = await driver.sync({ ports: [{ id: 'p1', networkId: 'n1', macAddress: 'fa:16:3e:00:00:01', fixedIps: ['10.0.0.3'], deviceOwner: 'compute:nova', deviceId: 's', securityGroups: [], portSecurityEnabled: true }], rules: [], members: {} });
  assert.is(result.applied, false);
  assert.equal(result.plan.bridges, ['brqn1']);
  assert.equal(ran, []);
});

test('the firewall is written whole and valid for iptables-restore: one COMMIT, every jump to a declared chain', async () => {
  const driver = new LinuxNetworkDriver({ apply: false });
  const { plan } = await driver.sync({ ports: [{ id: 'p1', networkId: 'n1', macAddress: 'fa:16:3e:00:00:01', fixedIps: ['10.0.0.3', '2001:db8::3'], deviceOwner: 'compute:nova', deviceId: 's', securityGroups: ['g'], portSecurityEnabled: true }], rules: [], members: {} });
  for (const lines of [plan.iptables.ipv4, plan.iptables.ipv6]) {
    assert.is(lines[0], '*filter');
    assert.is(lines.at(-1), 'COMMIT');
    const declared = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
    for (const target of lines.flatMap((l) => /-j (neutron-linuxbri-\S+)/.exec(l)?.[1] ?? [])) assert.ok(declared.has(target), target);
  }
  // IPv6 anti-spoofing also allows the port's link-local address (EUI-64 of its MAC).
  assert.ok(plan.iptables.ipv6.some((l) => l.includes('-s fe80::f816:3eff:fe00:1/128 -m mac --mac-source FA:16:3E:00:00:01 -j RETURN')));
});

test.run();
