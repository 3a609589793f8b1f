import { contains, parseCidr } from './cidr.ts';
import { AllocationOnAutoAddressSubnet, InvalidIpForSubnet, IpAddressAlreadyAllocated, IpAddressGenerationFailure } from './errors.ts';
import { eui64Address } from './eui64.ts';
import { formatIp, ipAt, parseIp } from './ip-address.ts';
import { isAutoAddressSubnet, type Subnet } from './subnet.ts';

/**
 * Neutron's IPAM for one subnet as a pure function (`neutron/ipam/drivers/neutrondb_ipam/
 * driver.py`, `ipam_pluggable_backend.py`): given the addresses already allocated, which one a
 * new port gets. Never one twice: the caller passes every allocation of the subnet, and stores
 * the answer so that a second writer of the same address fails (one record per address,
 * created only if absent; see docs/decisions.md).
 */
export interface AddressRequest {
  /** A fixed IP the port asks for; absent: any. */
  readonly ipAddress?: string;
  /** The port's MAC (SLAAC and stateless DHCPv6 subnets derive the address from it). */
  readonly mac: string;
  /** Router ports may take any address of a subnet, even on auto-address ones. */
  readonly deviceOwner?: string;
}

/** Neutron's MAX_WIN: a free address is drawn at random from the first 1000 free ones of a pool. */
export const MAX_WIN = 1000;

const ROUTER_OWNERS = ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface', 'network:router_centralized_snat'];

/** `check_subnet_ip`: on the subnet, and for IPv4 neither its network nor broadcast address. */
function validOnSubnet(subnet: Pick<Subnet, 'cidr'>, ip: ReturnType<typeof parseIp>, deviceOwner: string): boolean {
  const cidr = parseCidr(subnet.cidr);
  if (ip === undefined || !contains(cidr, ip)) return false;
  if (cidr.version === 4) return ip.value !== cidr.first && ip.value !== cidr.last;
  return ip.value !== cidr.first || deviceOwner === '' || ROUTER_OWNERS.includes(deviceOwner);
}

/**
 * The address the port gets on `subnet`.
 * @throws {IpAddressAlreadyAllocated} (409) the fixed IP (or the MAC's EUI-64) is taken;
 *   {InvalidIpForSubnet} (400) the fixed IP is not on the subnet; {AllocationOnAutoAddressSubnet}
 *   (400) a fixed IP on a SLAAC subnet; {IpAddressGenerationFailure} (409) the pools are used up.
 */
export function allocateAddress(
  subnet: Pick<Subnet, 'id' | 'cidr' | 'ipVersion' | 'allocationPools' | 'ipv6AddressMode' | 'ipv6RaMode'>,
  allocated: Iterable<string>,
  request: AddressRequest,
  random: () => number,
): string {
  const taken = new Set<bigint>();
  for (const text of allocated) {
    const ip = parseIp(text);
    if (ip !== undefined) taken.add(ip.value);
  }
  const owner = request.deviceOwner ?? '';
  if (isAutoAddressSubnet(subnet) && !ROUTER_OWNERS.includes(owner)) {
    if (request.ipAddress !== undefined) throw new AllocationOnAutoAddressSubnet(request.ipAddress, subnet.id);
    const ip = eui64Address(parseCidr(subnet.cidr), request.mac);
    if (taken.has(ip.value)) throw new IpAddressAlreadyAllocated(formatIp(ip), subnet.id);
    return formatIp(ip);
  }
  if (request.ipAddress !== undefined) {
    const ip = parseIp(request.ipAddress);
    if (ip !== undefined && taken.has(ip.value)) throw new IpAddressAlreadyAllocated(formatIp(ip), subnet.id);
    if (ip === undefined || !validOnSubnet(subnet, ip, owner)) throw new InvalidIpForSubnet(request.ipAddress, subnet.id);
    return formatIp(ip);
  }
  for (const pool of subnet.allocationPools) {
    const first = parseIp(pool.start)?.value ?? 0n;
    const last = parseIp(pool.end)?.value ?? -1n;
    const window: bigint[] = [];
    for (let v = first; v <= last && window.length < MAX_WIN; v++) if (!taken.has(v)) window.push(v);
    if (window.length === 0) continue;
    return formatIp(ipAt(subnet.ipVersion, window[Math.floor(random() * window.length)] as bigint));
  }
  throw new IpAddressGenerationFailure(subnet.id);
}
