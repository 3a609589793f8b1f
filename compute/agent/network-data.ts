import { formatCidr, parseCidr } from '../network/cidr.ts';
import { BITS, formatIp, ipAt } from '../network/ip-address.ts';
import type { NeutronSubnet } from '../network-api.ts';

/** One NIC of a server, with what Neutron says of its port, network and subnets (Nova's VIF model). */
export interface MetadataVif {
  readonly portId: string;
  readonly mac: string;
  readonly networkId: string;
  /** The network's MTU (Neutron's `mtu`). */
  readonly mtu: number | null;
  /** `binding:vif_type` (`bridge` once bound here). */
  readonly vifType: string;
  /** The guest's device name (Nova's `devname`: `tap` + the port id, cut to 14 characters). */
  readonly devname: string;
  readonly fixedIps: readonly { readonly subnet_id: string; readonly ip_address: string }[];
  /** The subnets of the port's addresses. */
  readonly subnets: readonly NeutronSubnet[];
}

/** Nova's `LEGACY_EXPOSED_VIF_TYPES`: a link of another type is shown as `phy`. */
const EXPOSED_VIF_TYPES = new Set(['bridge', 'dvs', 'hw_veb', 'hyperv', 'ovs', 'tap', 'vhostuser', 'vif']);

type Json = Record<string, unknown>;

/**
 * `network_data.json` as Nova writes it (`netutils.get_network_metadata`): a link per NIC with
 * an address, a network per NIC and IP version (its first subnet of that version with one of the
 * port's addresses: a subnet with DHCP enabled is `ipv4_dhcp`/`ipv6_dhcp` and no more, one
 * without gives the address, netmask, default route, host routes and DNS servers), and the DNS
 * servers once each as services. Undefined when the server has no NIC (Nova's `None`: `{}`).
 */
export function networkData(vifs: readonly MetadataVif[]): Json | undefined {
  if (vifs.length === 0) return undefined;
  const links: Json[] = [];
  const networks: Json[] = [];
  const services: Json[] = [];
  const addService = (s: Json): void => {
    if (!services.some((x) => x['address'] === s['address'])) services.push(s);
  };
  let ifc = -1;
  let net = -1;
  for (const vif of vifs) {
    if (vif.subnets.length === 0) continue;
    ifc++;
    const v4 = vif.subnets.find((s) => s.ip_version === 4);
    const v6 = vif.subnets.find((s) => s.ip_version === 6);
    const link = { id: vif.devname || `interface${ifc}`, vif_id: vif.portId, type: EXPOSED_VIF_TYPES.has(vif.vifType) ? vif.vifType : 'phy', mtu: vif.mtu, ethernet_mac_address: vif.mac };
    links.push(link);
    for (const [subnet, version] of [
      [v4, 4],
      [v6, 6],
    ] as const) {
      const ip = subnet && vif.fixedIps.find((f) => f.subnet_id === subnet.id);
      if (!subnet || !ip) continue;
      net++;
      networks.push(networkOf(vif, subnet, version, ip.ip_address, `network${net}`, link.id));
      for (const dns of subnet.dns_nameservers) addService({ type: 'dns', address: dns });
    }
  }
  return { links, networks, services };
}

function networkOf(vif: MetadataVif, subnet: NeutronSubnet, version: 4 | 6, address: string, id: string, link: string): Json {
  let type = `ipv${version}`;
  if (subnet.ipv6_address_mode) type = `ipv${version}_${subnet.ipv6_address_mode}`;
  else if (subnet.enable_dhcp) return { id, type: `ipv${version}_dhcp`, link, network_id: vif.networkId };
  const routes: Json[] = [];
  if (subnet.gateway_ip) routes.push(version === 4 ? { network: '0.0.0.0', netmask: '0.0.0.0', gateway: subnet.gateway_ip } : { network: '::', netmask: '::', gateway: subnet.gateway_ip });
  for (const r of subnet.host_routes) {
    const dest = parseCidr(r.destination);
    routes.push({ network: formatCidr(dest).split('/')[0], netmask: netmask(dest.prefixlen, dest.version), gateway: r.nexthop });
  }
  return { id, type, link, ip_address: address, netmask: netmask(parseCidr(subnet.cidr).prefixlen, version), routes, network_id: vif.networkId, services: subnet.dns_nameservers.map((dns) => ({ type: 'dns', address: dns })) };
}

/** The netmask of a `/prefix` of IP `version`, as netaddr writes it (dotted IPv4, compressed IPv6). */
function netmask(prefix: number, version: 4 | 6): string {
  const bits = BITS[version];
  return formatIp(ipAt(version, prefix <= 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix)));
}
