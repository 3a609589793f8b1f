import { InvalidAttribute, InvalidInput } from './errors.ts';
import { BITS, formatIp, type IpAddress, ipAt, parseIp } from './ip-address.ts';

/** An IP network: the addresses `first`..`last` sharing the top `prefixlen` bits. */
export interface Cidr {
  readonly version: 4 | 6;
  readonly prefixlen: number;
  readonly first: bigint;
  readonly last: bigint;
}

/** A range of addresses, both ends included (an allocation pool, netaddr's IPRange). */
export interface IpRange {
  readonly version: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * The network `text` names (`10.0.0.0/24`, `2001:db8::/64`), as neutron-lib's `validate_subnet`
 * accepts it (a prefix length is required; an IPv4 address must be written as netaddr would),
 * with host bits cleared. @throws {InvalidAttribute} "'x' is not a valid IP subnet".
 */
export function parseCidr(text: string, attribute = 'cidr'): Cidr {
  const invalid = new InvalidAttribute(attribute, `'${text}' is not a valid IP subnet`);
  if (typeof text !== 'string') throw invalid;
  const slash = text.indexOf('/');
  if (slash < 0) throw invalid;
  const ip = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(lengthText)) throw invalid;
  const prefixlen = Number(lengthText);
  if (prefixlen > BITS[ip.version]) throw invalid;
  return cidrOf(ip, prefixlen);
}

export function cidrOf(ip: IpAddress, prefixlen: number): Cidr {
  const hostBits = BigInt(BITS[ip.version] - prefixlen);
  const first = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, prefixlen, first, last: first + (1n << hostBits) - 1n };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(ipAt(cidr.version, cidr.first))}/${cidr.prefixlen}`;
}

/** netaddr's IPRange text: `first-last`. */
export function formatRange(range: IpRange): string {
  return `${formatIp(ipAt(range.version, range.first))}-${formatIp(ipAt(range.version, range.last))}`;
}

export function contains(cidr: Cidr | IpRange, ip: IpAddress): boolean {
  return ip.version === cidr.version && ip.value >= cidr.first && ip.value <= cidr.last;
}

export function overlaps(a: Cidr | IpRange, b: Cidr | IpRange): boolean {
  return a.version === b.version && a.first <= b.last && b.first <= a.last;
}

/** The address `text` names. @throws {InvalidInput} "'x' is not a valid IP address" (netaddr's message). */
export function requireIp(text: string): IpAddress {
  const ip = parseIp(text);
  if (ip === undefined) throw new InvalidInput(`'${text}' is not a valid IP address`);
  return ip;
}
