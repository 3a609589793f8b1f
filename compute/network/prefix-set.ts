import { type Cidr, type IpRange, parseCidr } from './cidr.ts';
import { BITS } from './ip-address.ts';

/**
 * netaddr's `IPSet` as the subnet pools use it: a set of addresses of one version kept as
 * sorted, disjoint, non-adjacent ranges, whose `cidrs` are the fewest CIDRs covering it (what
 * `compact()` then `iter_cidrs()` give).
 */
export type PrefixSet = readonly IpRange[];

/** The union of `ranges` (CIDRs or ranges), merged. */
export function prefixSet(ranges: readonly IpRange[]): PrefixSet {
  const sorted = [...ranges].sort((a, b) => a.version - b.version || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && last.version === r.version && r.first <= last.last + 1n) out[out.length - 1] = { ...last, last: r.last > last.last ? r.last : last.last };
    else out.push({ version: r.version, first: r.first, last: r.last });
  }
  return out;
}

/** The set of the CIDR texts given (each already validated). */
export function prefixSetOf(cidrs: readonly string[]): PrefixSet {
  return prefixSet(cidrs.map((c) => parseCidr(c)));
}

/** `a - b`. */
export function difference(a: PrefixSet, b: PrefixSet): PrefixSet {
  const out: IpRange[] = [];
  for (const r of a) {
    let pieces: IpRange[] = [r];
    for (const cut of b) {
      if (cut.version !== r.version) continue;
      pieces = pieces.flatMap((p) => {
        if (cut.last < p.first || cut.first > p.last) return [p];
        const left = cut.first > p.first ? [{ version: p.version, first: p.first, last: cut.first - 1n }] : [];
        const right = cut.last < p.last ? [{ version: p.version, first: cut.last + 1n, last: p.last }] : [];
        return [...left, ...right];
      });
    }
    out.push(...pieces);
  }
  return prefixSet(out);
}

export function intersects(a: PrefixSet, b: PrefixSet): boolean {
  return a.some((x) => b.some((y) => x.version === y.version && x.first <= y.last && y.first <= x.last));
}

/** Whether every address of `a` is in `b`. */
export function isSubset(a: PrefixSet, b: PrefixSet): boolean {
  return difference(a, b).length === 0;
}

/** The fewest CIDRs covering the set, in address order (`iter_cidrs`). */
export function cidrsOf(set: PrefixSet): Cidr[] {
  const out: Cidr[] = [];
  for (const r of set) {
    const bits = BITS[r.version];
    let first = r.first;
    while (first <= r.last) {
      // The largest block aligned at `first` that ends within the range.
      let hostBits = 0;
      while (hostBits < bits && ((first >> BigInt(hostBits)) & 1n) === 0n && first + (1n << BigInt(hostBits + 1)) - 1n <= r.last) hostBits++;
      const last = first + (1n << BigInt(hostBits)) - 1n;
      out.push({ version: r.version, prefixlen: bits - hostBits, first, last });
      first = last + 1n;
    }
  }
  return out;
}
