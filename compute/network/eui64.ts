import type { Cidr } from './cidr.ts';
import type { IpAddress } from './ip-address.ts';

/**
 * The IPv6 address SLAAC gives a MAC on a /64 (RFC 4291 appendix A, Neutron's
 * `get_ipv6_addr_by_EUI64`): the prefix, then the MAC with `ff:fe` in its middle and the
 * universal/local bit of its first octet flipped.
 */
export function eui64Address(prefix: Cidr, mac: string): IpAddress {
  const o = mac.split(':').map((h) => Number.parseInt(h, 16));
  const bytes = [(o[0] ?? 0) ^ 0x02, o[1] ?? 0, o[2] ?? 0, 0xff, 0xfe, o[3] ?? 0, o[4] ?? 0, o[5] ?? 0];
  let iid = 0n;
  for (const b of bytes) iid = (iid << 8n) | BigInt(b);
  return { version: 6, value: prefix.first | iid };
}
