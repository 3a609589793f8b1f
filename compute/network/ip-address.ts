import ipaddr from 'ipaddr.js';

/**
 * IP addresses as numbers, so pools, ranges and CIDRs are arithmetic (netaddr's role in
 * Neutron); parsing and the text form (RFC 5952 for IPv6) come from ipaddr.js.
 */
export interface IpAddress {
  readonly version: 4 | 6;
  readonly value: bigint;
}

export const BITS: Readonly<Record<4 | 6, number>> = { 4: 32, 6: 128 };

/** The address `text` names, or undefined when it is not one (IPv4 only in dotted decimal). */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return fromBytes(4, ipaddr.IPv4.parse(text).toByteArray());
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) return fromBytes(6, ipaddr.IPv6.parse(text).toByteArray());
  return undefined;
}

function fromBytes(version: 4 | 6, bytes: readonly number[]): IpAddress {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { version, value };
}

/** The address as Neutron shows it (dotted decimal, or compressed lower-case IPv6). */
export function formatIp(ip: IpAddress): string {
  const bytes: number[] = [];
  for (let i = BITS[ip.version] / 8 - 1; i >= 0; i--) bytes.push(Number((ip.value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

export function ipAt(version: 4 | 6, value: bigint): IpAddress {
  return { version, value };
}
