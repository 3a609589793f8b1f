import { networkInterfaces } from 'node:os';

let own: ReadonlySet<string> | undefined;

/**
 * Whether `ip` is an address of this machine: loopback, or one of its interfaces' (read once;
 * an address added later counts as another machine's, which only costs a relayed read).
 * IPv4-mapped IPv6 (`::ffff:10.0.0.5`, as a dual-stack socket reports a peer) counts as its IPv4.
 */
export function isThisHost(ip: string): boolean {
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (address.startsWith('127.') || address === '::1') return true;
  own ??= new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  return own.has(address);
}
