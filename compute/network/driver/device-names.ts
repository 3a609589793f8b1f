/** Linux's device names are at most 15 characters; Neutron's are 14 (LINUX_DEV_LEN). */
const LINUX_DEV_LEN = 14;

/** The bridge of a network on a host (linuxbridge agent: `brq` + network id). */
export function bridgeName(networkId: string): string {
  return `brq${networkId}`.slice(0, LINUX_DEV_LEN);
}

/** The host side of a port's device (`tap` + port id). */
export function tapName(portId: string): string {
  return `tap${portId}`.slice(0, LINUX_DEV_LEN);
}

/** The namespace end of a DHCP port's veth (`ns-`) or a router interface's (`qr-`). */
export function namespaceDeviceName(prefix: 'ns-' | 'qr-', portId: string): string {
  return `${prefix}${portId}`.slice(0, LINUX_DEV_LEN);
}

/** iptables chains of the linuxbridge agent: its wrap prefix, then at most 11 characters. */
export const CHAIN_PREFIX = 'neutron-linuxbri-';

export function chainName(name: string): string {
  return `${CHAIN_PREFIX}${name.slice(0, 11)}`;
}

/** A port's chains: `i` ingress, `o` egress, `s` anti-spoofing, then its tap name without `tap`. */
export function portChain(kind: 'i' | 'o' | 's', portId: string): string {
  return chainName(`${kind}${tapName(portId).slice(3)}`);
}
