import { bridgeName, namespaceDeviceName, tapName } from './device-names.ts';
import { firewallRules } from './iptables-rules.ts';
import type { HostNetworkConfig, NetworkPlan, PlanChanges, PlannedDevice, PortBinding } from './types.ts';

/**
 * A port's device, as the linuxbridge agent wires it: a server's NIC is a tap the hypervisor
 * creates (domain XML: `<interface type='bridge'>`) on its network's bridge; a DHCP port is a
 * veth whose other end (`ns-`) sits in the network's `qdhcp-` namespace; a router interface a
 * veth into the router's `qrouter-` namespace (`qr-`).
 */
function device(port: PortBinding): PlannedDevice {
  const base = { name: tapName(port.id), bridge: bridgeName(port.networkId), mac: port.macAddress };
  if (port.deviceOwner === 'network:dhcp') return { ...base, kind: 'veth', peer: namespaceDeviceName('ns-', port.id), namespace: `qdhcp-${port.networkId}` };
  if (port.deviceOwner.startsWith('network:router_interface')) return { ...base, kind: 'veth', peer: namespaceDeviceName('qr-', port.id), namespace: `qrouter-${port.deviceId}` };
  return { ...base, kind: 'tap' };
}

/** What the host must have for `config`: bridges, devices and firewall, all sorted so equal configs give equal plans. */
export function planHost(config: HostNetworkConfig): NetworkPlan {
  const devices = config.ports.map(device).sort((a, b) => a.name.localeCompare(b.name));
  const bridges = [...new Set(devices.map((d) => d.bridge))].sort();
  return { bridges, devices, iptables: firewallRules(config) };
}

export const EMPTY_PLAN: NetworkPlan = planHost({ ports: [], rules: [], members: {} });

/** What going from `before` to `after` adds and removes. */
export function planChanges(before: NetworkPlan, after: NetworkPlan): PlanChanges {
  const names = (p: NetworkPlan) => new Set(p.devices.map((d) => JSON.stringify(d)));
  const [b, a] = [names(before), names(after)];
  const diff = (x: Set<string>, y: Set<string>) => [...x].filter((d) => !y.has(d)).map((d) => (JSON.parse(d) as PlannedDevice).name);
  return {
    addedBridges: after.bridges.filter((x) => !before.bridges.includes(x)),
    removedBridges: before.bridges.filter((x) => !after.bridges.includes(x)),
    addedDevices: diff(a, b),
    removedDevices: diff(b, a),
    firewallChanged: JSON.stringify(before.iptables) !== JSON.stringify(after.iptables),
  };
}
