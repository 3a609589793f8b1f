/**
 * IP networks as Python's `ipaddress.ip_network` reads them (strictly), for TempURL's
 * `temp_url_ip_range`: `1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `1.2.3.0/0.0.0.255`,
 * `2001:db8::/32`. A network with host bits set (`1.2.3.4/24`) is not one, as in Python.
 */
export interface IpNetwork {
  readonly version: 4 | 6;
  /** The network address, 4 or 16 bytes. */
  readonly address: Uint8Array;
  readonly prefixLength: number;
}

/** Dotted IPv4 with four decimal octets, no leading zeros (Python 3.9.5+); undefined otherwise. */
function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** IPv6 text (with `::` and an IPv4 tail allowed) to 16 bytes; undefined if malformed. */
function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      out.push(parseInt(part, 16));
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** An address as bytes: IPv4 (also IPv4-mapped IPv6, as node reports IPv4 peers on `::`) or IPv6. */
export function parseIpAddress(text: string): { version: 4 | 6; bytes: Uint8Array } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  const v4 = parseIpv4(mapped ? (mapped[1] as string) : text);
  if (v4) return { version: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 ? { version: 6, bytes: v6 } : undefined;
}

/** The length of a mask given as bytes (netmask `255.255.0.0` or hostmask `0.0.255.255`). */
function maskLength(mask: Uint8Array): number | undefined {
  const bits = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
  if (/^1*0*$/.test(bits)) return bits.indexOf('0') === -1 ? bits.length : bits.indexOf('0');
  if (/^0*1*$/.test(bits)) return bits.indexOf('1') === -1 ? bits.length : bits.indexOf('1');
  return undefined;
}

function hostBitsSet(address: Uint8Array, prefixLength: number): boolean {
  for (let bit = prefixLength; bit < address.length * 8; bit++) {
    if (((address[bit >> 3] as number) >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

/** Python's `ip_network(text)` (strict); undefined where Python raises `ValueError`. */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const [addressText, prefixText, extra] = text.split('/');
  if (extra !== undefined || addressText === undefined) return undefined;
  const v4 = parseIpv4(addressText);
  const address = v4 ?? parseIpv6(addressText);
  if (!address) return undefined;
  const bits = address.length * 8;
  let prefixLength = bits;
  if (prefixText !== undefined) {
    if (/^\d+$/.test(prefixText)) prefixLength = Number(prefixText);
    else if (v4) {
      const mask = parseIpv4(prefixText);
      const length = mask ? maskLength(mask) : undefined;
      if (length === undefined) return undefined;
      prefixLength = length;
    } else return undefined;
  }
  if (prefixLength > bits || hostBitsSet(address, prefixLength)) return undefined;
  return { version: v4 ? 4 : 6, address, prefixLength };
}

/** Whether `address` (text) lies in `network`; false for an unreadable address or other family. */
export function ipInNetwork(address: string, network: IpNetwork): boolean {
  const parsed = parseIpAddress(address);
  if (!parsed || parsed.version !== network.version) return false;
  for (let bit = 0; bit < network.prefixLength; bit++) {
    const a = ((parsed.bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1;
    const b = ((network.address[bit >> 3] as number) >> (7 - (bit & 7))) & 1;
    if (a !== b) return false;
  }
  return true;
}
