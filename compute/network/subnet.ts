import { type Cidr, contains, formatCidr, formatRange, type IpRange, overlaps, parseCidr } from './cidr.ts';
import {
  GatewayConflictWithAllocationPools,
  InvalidAllocationPool,
  InvalidInput,
  NeutronError,
  OutOfBoundsAllocationPool,
  OverlappingAllocationPools,
} from './errors.ts';
import { formatIp, ipAt, parseIp } from './ip-address.ts';

export type Ipv6Mode = 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';

/** A subnet as `POST /v2.0/subnets` asks for it (absent = not specified). */
export interface SubnetRequest {
  readonly id: string;
  readonly networkId: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  /** Absent: the first host address; null: no gateway. */
  readonly gatewayIp?: string | null;
  readonly allocationPools?: readonly AllocationPool[];
  readonly enableDhcp?: boolean;
  readonly ipv6AddressMode?: Ipv6Mode | null;
  readonly ipv6RaMode?: Ipv6Mode | null;
  readonly dnsNameservers?: readonly string[];
  readonly hostRoutes?: readonly HostRoute[];
}

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

export interface HostRoute {
  readonly destination: string;
  readonly nexthop: string;
}

/** A subnet as stored: every field settled, addresses in their canonical text. */
export interface Subnet {
  readonly id: string;
  readonly networkId: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly AllocationPool[];
  readonly enableDhcp: boolean;
  readonly ipv6AddressMode: Ipv6Mode | null;
  readonly ipv6RaMode: Ipv6Mode | null;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly HostRoute[];
}

/** Neutron's `max_dns_nameservers` and `max_subnet_host_routes` defaults. */
export const MAX_DNS_NAMESERVERS = 5;
export const MAX_SUBNET_HOST_ROUTES = 20;

const IPV6_MODES: readonly string[] = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'];

/** Python's repr of a flat dict of strings, as Neutron's messages print a pool or a route. */
function pyRepr(d: Readonly<Record<string, string>>): string {
  return `{${Object.entries(d).map(([k, v]) => `'${k}': '${v}'`).join(', ')}}`;
}

function versionOf(text: string): 4 | 6 | undefined {
  return parseIp(text.includes('/') ? text.slice(0, text.indexOf('/')) : text)?.version;
}

/** `_validate_ip_version`: "%(name)s '%(addr)s' does not match the ip_version '%(ip_version)s'". */
function checkVersion(ipVersion: 4 | 6, addr: string, name: string): void {
  if (versionOf(addr) !== ipVersion) throw new InvalidInput(`${name} '${addr}' does not match the ip_version '${ipVersion}'`);
}

/** Whether addresses on the subnet come from the MAC (SLAAC or stateless DHCPv6: EUI-64). */
export function isAutoAddressSubnet(subnet: Pick<Subnet, 'ipVersion' | 'ipv6AddressMode' | 'ipv6RaMode'>): boolean {
  if (subnet.ipVersion !== 6) return false;
  const auto = (m: Ipv6Mode | null) => m === 'slaac' || m === 'dhcpv6-stateless';
  return auto(subnet.ipv6AddressMode) || (subnet.ipv6AddressMode === null && auto(subnet.ipv6RaMode));
}

/** `generate_pools`: the subnet's usable addresses (not v4's network and broadcast, not v6's router anycast) less the gateway. */
export function defaultPools(cidr: Cidr, gateway: bigint | undefined): IpRange[] {
  if (cidr.first === cidr.last) return [{ version: cidr.version, first: cidr.first, last: cidr.last }];
  let first = cidr.first;
  let last = cidr.last;
  if (cidr.version === 6 || cidr.prefixlen <= 30) first += 1n;
  if (cidr.version === 4 && cidr.prefixlen <= 30) last -= 1n;
  if (gateway === undefined || gateway < first || gateway > last) return [{ version: cidr.version, first, last }];
  return [
    { version: cidr.version, first, last: gateway - 1n },
    { version: cidr.version, first: gateway + 1n, last },
  ].filter((r) => r.first <= r.last);
}

/** The range of addresses pools may use: `validate_allocation_pools`'s bounds. */
function poolBounds(cidr: Cidr): IpRange {
  if (cidr.version === 4 && cidr.prefixlen > 30) return { version: 4, first: cidr.first, last: cidr.last };
  return { version: cidr.version, first: cidr.first + 1n, last: cidr.version === 4 ? cidr.last - 1n : cidr.last };
}

function validatePools(pools: readonly AllocationPool[], cidr: Cidr, cidrText: string): IpRange[] {
  const ranges = pools.map((pool) => {
    const start = parseIp(pool.start);
    const end = parseIp(pool.end);
    if (start === undefined || end === undefined || start.version !== end.version || start.value > end.value) throw new InvalidAllocationPool(pyRepr({ start: pool.start, end: pool.end }));
    return { version: start.version, first: start.value, last: end.value };
  });
  const bounds = poolBounds(cidr);
  for (const range of ranges) {
    if (range.version !== cidr.version) throw new InvalidAllocationPool(formatRange(range));
    if (range.first < bounds.first || range.last > bounds.last) throw new OutOfBoundsAllocationPool(formatRange(range), cidrText);
  }
  ranges.forEach((a, i) => {
    for (const b of ranges.slice(i + 1)) if (overlaps(a, b)) throw new OverlappingAllocationPools(formatRange(a), formatRange(b), cidrText);
  });
  return ranges;
}

function validateDhcp(cidr: Cidr): void {
  if ((cidr.version === 4 && cidr.prefixlen > 30) || (cidr.version === 6 && cidr.prefixlen > 126)) throw new InvalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
  const top = cidr.version === 4 ? cidr.first >> 24n : cidr.first >> 120n;
  const multicast = cidr.version === 4 ? top >= 224n && top <= 239n : top === 0xffn;
  if (multicast) throw new InvalidInput('Multicast IP subnet is not supported if enable_dhcp is True');
  const loopback = cidr.version === 4 ? top === 127n : cidr.first === 1n && cidr.prefixlen === 128;
  if (loopback) throw new InvalidInput('Loopback IP subnet is not supported if enable_dhcp is True');
  if (cidr.version === 4 && cidr.first === 0n) throw new InvalidInput(`First IP '0.0.0.0' of network is not supported if enable_dhcp is True.`);
}

function validateIpv6Modes(req: SubnetRequest, cidr: Cidr, enableDhcp: boolean): void {
  const ra = req.ipv6RaMode ?? null;
  const address = req.ipv6AddressMode ?? null;
  for (const [name, mode] of [['ipv6_ra_mode', ra], ['ipv6_address_mode', address]] as const) {
    if (mode !== null && !IPV6_MODES.includes(mode)) throw new InvalidInput(`'${mode}' is not in ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac', None] for ${name}`);
  }
  if (req.ipVersion === 4) {
    if (ra !== null) throw new InvalidInput('ipv6_ra_mode is not valid when ip_version is 4');
    if (address !== null) throw new InvalidInput('ipv6_address_mode is not valid when ip_version is 4');
    return;
  }
  if ((ra !== null || address !== null) && !enableDhcp) throw new InvalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
  if (ra !== null && address !== null && ra !== address) {
    throw new InvalidInput(`ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${address}' is not valid. If both attributes are set, they must be the same value`);
  }
  if (isAutoAddressSubnet({ ipVersion: 6, ipv6AddressMode: address, ipv6RaMode: ra }) && cidr.prefixlen !== 64) {
    throw new InvalidInput(`Invalid CIDR ${req.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
  }
}

/**
 * A subnet request checked as Neutron's `_validate_subnet`, `_validate_subnet_cidr` and
 * `validate_allocation_pools` check it, in their order, and settled: the CIDR with host bits
 * cleared, the gateway defaulting to the first host address, the pools generated around the
 * gateway when none are given. `others` are the network's subnets already there.
 * @throws {InvalidAttribute} an unreadable CIDR; {InvalidInput}, {InvalidAllocationPool},
 *   {OutOfBoundsAllocationPool}, {OverlappingAllocationPools} (409),
 *   {GatewayConflictWithAllocationPools} (409), or the limits' BadRequests.
 */
export function validateSubnet(req: SubnetRequest, others: readonly Pick<Subnet, 'id' | 'cidr'>[]): Subnet {
  const cidr = parseCidr(req.cidr);
  checkVersion(req.ipVersion, req.cidr, 'cidr');
  const cidrText = formatCidr(cidr);
  if (cidr.version === 6 && cidr.first === 0n) throw new InvalidInput("IPv6 subnet '::' is not supported");
  const enableDhcp = req.enableDhcp ?? true;
  if (enableDhcp) validateDhcp(cidr);

  let gateway: bigint | undefined;
  if (req.gatewayIp === undefined) gateway = cidr.first + 1n > cidr.last ? undefined : cidr.first + 1n;
  else if (req.gatewayIp !== null) {
    checkVersion(req.ipVersion, req.gatewayIp, 'gateway_ip');
    gateway = parseIp(req.gatewayIp)?.value as bigint;
    const inside = contains(cidr, ipAt(cidr.version, gateway));
    if (inside && cidr.version === 4 && (gateway === cidr.first || gateway === cidr.last)) throw new InvalidInput('Gateway is not valid on subnet');
  }

  const dns = req.dnsNameservers ?? [];
  if (dns.length > MAX_DNS_NAMESERVERS) {
    throw new NeutronError('DNSNameServersExhausted', 'BadRequest', `Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`);
  }
  for (const server of dns) {
    if (parseIp(server) === undefined) throw new InvalidInput(`Error parsing dns address ${server}`);
    checkVersion(req.ipVersion, server, 'dns_nameserver');
  }
  const routes = req.hostRoutes ?? [];
  if (routes.length > MAX_SUBNET_HOST_ROUTES) {
    throw new NeutronError('HostRoutesExhausted', 'BadRequest', `Unable to complete operation for new subnet. The number of host routes exceeds the limit ${MAX_SUBNET_HOST_ROUTES}.`);
  }
  for (const route of routes) {
    const ok = parseIp(route.nexthop) !== undefined && (() => { try { parseCidr(route.destination); return true; } catch { return false; } })();
    if (!ok) throw new InvalidInput(`Invalid route: ${pyRepr({ destination: route.destination, nexthop: route.nexthop })}`);
    checkVersion(req.ipVersion, route.nexthop, 'nexthop');
    checkVersion(req.ipVersion, route.destination, 'destination');
  }
  validateIpv6Modes(req, cidr, enableDhcp);

  if (cidr.prefixlen === 0) throw new InvalidInput('0 is not allowed as CIDR prefix length');
  for (const other of others) {
    if (overlaps(parseCidr(other.cidr), cidr)) throw new InvalidInput(`Requested subnet with cidr: ${req.cidr} for network: ${req.networkId} overlaps with another subnet`);
  }

  const pools = req.allocationPools === undefined ? defaultPools(cidr, gateway) : validatePools(req.allocationPools, cidr, cidrText);
  if (req.allocationPools !== undefined && gateway !== undefined) {
    for (const pool of pools) {
      if (gateway >= pool.first && gateway <= pool.last) throw new GatewayConflictWithAllocationPools(formatIp(ipAt(cidr.version, gateway)), formatRange(pool));
    }
  }
  return {
    id: req.id,
    networkId: req.networkId,
    ipVersion: req.ipVersion,
    cidr: cidrText,
    gatewayIp: gateway === undefined ? null : formatIp(ipAt(cidr.version, gateway)),
    allocationPools: pools.map((p) => ({ start: formatIp(ipAt(p.version, p.first)), end: formatIp(ipAt(p.version, p.last)) })),
    enableDhcp,
    ipv6AddressMode: req.ipv6AddressMode ?? null,
    ipv6RaMode: req.ipv6RaMode ?? null,
    dnsNameservers: dns.map((d) => formatIp(parseIp(d) as NonNullable<ReturnType<typeof parseIp>>)),
    hostRoutes: routes,
  };
}
