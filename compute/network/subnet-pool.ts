import { type Cidr, formatCidr, parseCidr } from './cidr.ts';
import {
  EmptySubnetPoolPrefixList,
  IllegalSubnetPoolPrefixBounds,
  MaxPrefixSubnetAllocationError,
  MinPrefixSubnetAllocationError,
  PrefixVersionMismatch,
  SubnetAllocationError,
  SubnetPoolQuotaExceeded,
} from './errors.ts';
import { BITS } from './ip-address.ts';
import { cidrsOf, difference, prefixSet, prefixSetOf } from './prefix-set.ts';

/** A pool's prefixes and bounds as Neutron's `SubnetPoolReader` settles them. */
export interface PoolPrefixes {
  readonly ip_version: 4 | 6;
  /** Compacted: overlapping or adjacent prefixes merged into the fewest CIDRs. */
  readonly prefixes: readonly string[];
  readonly min_prefixlen: number;
  readonly max_prefixlen: number;
  readonly default_prefixlen: number;
}

/** What a create or update asks for (absent: not specified, so the defaults). */
export interface PoolBoundsRequest {
  readonly prefixes: readonly string[];
  readonly min_prefixlen?: number;
  readonly max_prefixlen?: number;
  readonly default_prefixlen?: number;
}

/** `SubnetPoolHelper._PREFIX_VERSION_INFO`: the smallest prefix length by default, and the quota unit. */
const DEFAULT_MIN_PREFIXLEN: Readonly<Record<4 | 6, number>> = { 4: 8, 6: 64 };
const QUOTA_UNIT: Readonly<Record<4 | 6, number>> = { 4: 32, 6: 64 };

/**
 * `SubnetPoolReader`: the ip_version the prefixes are of, the prefixes compacted, and the
 * prefix length bounds (min defaults to /8 or /64, max to the address size, default to min),
 * checked in Neutron's order.
 * @throws {EmptySubnetPoolPrefixList} {PrefixVersionMismatch} {IllegalSubnetPoolPrefixBounds}
 */
export function readPool(req: PoolBoundsRequest): PoolPrefixes {
  if (req.prefixes.length === 0) throw new EmptySubnetPoolPrefixList();
  const cidrs = req.prefixes.map((p) => parseCidr(p, 'prefixes'));
  const ipVersion = (cidrs[0] as Cidr).version;
  if (cidrs.some((c) => c.version !== ipVersion)) throw new PrefixVersionMismatch();
  const bits = BITS[ipVersion];
  const min = req.min_prefixlen ?? DEFAULT_MIN_PREFIXLEN[ipVersion];
  const max = req.max_prefixlen ?? bits;
  // `_read_prefix_bound` takes min as default_prefixlen's default only when min is non-zero.
  const dflt = req.default_prefixlen ?? min;
  if (min > max) throw new IllegalSubnetPoolPrefixBounds('min_prefixlen', min, 'max_prefixlen', max);
  if (max > bits) throw new IllegalSubnetPoolPrefixBounds('max_prefixlen', max, 'ip_version_max', bits);
  if (dflt < min) throw new IllegalSubnetPoolPrefixBounds('default_prefixlen', dflt, 'min_prefixlen', min);
  if (dflt > max) throw new IllegalSubnetPoolPrefixBounds('default_prefixlen', dflt, 'max_prefixlen', max);
  return { ip_version: ipVersion, prefixes: compactPrefixes(req.prefixes), min_prefixlen: min, max_prefixlen: max, default_prefixlen: dflt };
}

/** `_compact_subnetpool_prefix_list`. */
export function compactPrefixes(prefixes: readonly string[]): string[] {
  return cidrsOf(prefixSetOf(prefixes)).map(formatCidr);
}

/** A pool as allocation needs it. */
export interface AllocatingPool {
  readonly prefixes: readonly string[];
  readonly ip_version: 4 | 6;
  readonly min_prefixlen: number;
  readonly max_prefixlen: number;
  readonly default_quota: number | null;
}

/** `allocate_subnet`'s bounds. @throws {MaxPrefixSubnetAllocationError} {MinPrefixSubnetAllocationError} */
export function checkPrefixlen(pool: AllocatingPool, prefixlen: number): void {
  if (prefixlen > pool.max_prefixlen) throw new MaxPrefixSubnetAllocationError(prefixlen, pool.max_prefixlen);
  if (prefixlen < pool.min_prefixlen) throw new MinPrefixSubnetAllocationError(prefixlen, pool.min_prefixlen);
}

/**
 * `_check_subnetpool_project_quota`: a pool's `default_quota` counts addresses (units of /32 for
 * IPv4, /64 for IPv6) the project holds in subnets from it. `projectCidrs` are those subnets'.
 * @throws {SubnetPoolQuotaExceeded}
 */
export function checkPoolQuota(pool: AllocatingPool, projectCidrs: readonly string[], prefixlen: number): void {
  if (!pool.default_quota) return;
  const unit = QUOTA_UNIT[pool.ip_version];
  const units = (len: number) => 2 ** (unit - len);
  const used = projectCidrs.reduce((sum, c) => sum + units(parseCidr(c).prefixlen), 0);
  if (used + units(prefixlen) > pool.default_quota) throw new SubnetPoolQuotaExceeded();
}

/** The pool's free space, its largest prefix lengths (smallest blocks) first as `_get_available_prefix_list` sorts it. */
function available(pool: AllocatingPool, allocated: readonly string[]): Cidr[] {
  const free = cidrsOf(difference(prefixSetOf(pool.prefixes), prefixSet(allocated.map((c) => parseCidr(c)))));
  // A stable sort by prefix length, longest first, as Python's sorted(reverse=True) keeps ties in order.
  return free.map((c, i) => [c, i] as const).sort((a, b) => b[0].prefixlen - a[0].prefixlen || a[1] - b[1]).map(([c]) => c);
}

/**
 * `_allocate_any_subnet`: the first `/prefixlen` of the smallest free block that holds one.
 * @throws {SubnetAllocationError} (500) when no free block is big enough.
 */
export function allocateAny(pool: AllocatingPool, allocated: readonly string[], prefixlen: number): string {
  for (const block of available(pool, allocated)) {
    if (prefixlen >= block.prefixlen) return formatCidr({ version: block.version, prefixlen, first: block.first, last: block.first });
  }
  throw new SubnetAllocationError(`Insufficient prefix space to allocate subnet size /${prefixlen}`);
}

/**
 * `_allocate_specific_subnet`: `cidr` must lie within one free block.
 * @throws {SubnetAllocationError} (500) otherwise.
 */
export function allocateSpecific(pool: AllocatingPool, allocated: readonly string[], cidr: string): void {
  const wanted = parseCidr(cidr);
  const holding = available(pool, allocated).filter((b) => b.version === wanted.version && b.first <= wanted.first && wanted.last <= b.last);
  if (holding.length !== 1) throw new SubnetAllocationError('Cannot allocate requested subnet from the available set of prefixes');
}
