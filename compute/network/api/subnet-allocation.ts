import type { Fields } from '../attributes.ts';
import { formatCidr, parseCidr } from '../cidr.ts';
import type { NetworkContext } from '../context.ts';
import { BadRequest, NetworkSubnetPoolAffinityError } from '../errors.ts';
import type { SubnetPoolRecord, SubnetRecord } from '../records.ts';
import type { NetworkStore } from '../store.ts';
import { allocateAny, allocateSpecific, checkPoolQuota, checkPrefixlen } from '../subnet-pool.ts';
import { defaultSubnetPool, visibleSubnetPool } from './subnet-pools.ts';

/**
 * `_get_subnetpool_id`: the pool a subnet create names (`subnetpool_id`), or the caller's
 * default pool of its ip_version (`use_default_subnetpool`), or none.
 * @throws {BadRequest} both asked, or no default pool; {SubnetPoolNotFound}
 */
export async function requestedPool(store: NetworkStore, ctx: NetworkContext, f: Fields, hasCidr: boolean): Promise<SubnetPoolRecord | undefined> {
  const poolId = (f.subnetpool_id as string | null | undefined) ?? null;
  const useDefault = (f.use_default_subnetpool as boolean | undefined) ?? false;
  if (useDefault && poolId !== null) throw new BadRequest('subnets', 'subnetpool_id and use_default_subnetpool cannot both be specified');
  let pool: SubnetPoolRecord | undefined;
  if (poolId !== null) pool = await visibleSubnetPool(store, ctx, poolId);
  else if (useDefault) {
    const ipVersion = hasCidr ? parseCidr(f.cidr as string).version : (f.ip_version as number);
    pool = await defaultSubnetPool(store, ctx, ipVersion);
    if (!pool) throw new BadRequest('subnets', `No default subnetpool found for IPv${ipVersion}`);
  }
  // `_validate_ip_version_with_subnetpool`.
  if (pool && f.ip_version !== pool.ip_version) throw new BadRequest('subnets', `Cannot allocate IPv${f.ip_version} subnet from IPv${pool.ip_version} subnet pool`);
  return pool;
}

/**
 * `validate_network_subnetpools` without address scopes on networks: a network's subnets of one
 * ip_version all come from the same pool, or none from any.
 * @throws {NetworkSubnetPoolAffinityError}
 */
export function checkPoolAffinity(networkSubnets: readonly SubnetRecord[], pool: SubnetPoolRecord | undefined, ipVersion: number): void {
  for (const s of networkSubnets) {
    if (s.ip_version !== ipVersion) continue;
    if ((s.subnetpool_id ?? null) !== (pool?.id ?? null)) throw new NetworkSubnetPoolAffinityError();
  }
}

/**
 * `SubnetAllocator.allocate_subnet`: the requested CIDR checked to lie in the pool's free space,
 * or the next free `/prefixlen` (the request's, else the pool's default), within the pool's
 * prefix length bounds and the project's share of its `default_quota`. `subnets` are all
 * subnets (those from the pool are its allocations).
 * @throws {MaxPrefixSubnetAllocationError} {MinPrefixSubnetAllocationError} {SubnetPoolQuotaExceeded} {SubnetAllocationError}
 */
export function allocateFromPool(pool: SubnetPoolRecord, subnets: readonly SubnetRecord[], projectId: string, f: Fields, hasCidr: boolean): string {
  const allocations = subnets.filter((s) => s.subnetpool_id === pool.id);
  const wanted = hasCidr ? parseCidr(f.cidr as string) : undefined;
  const prefixlen = wanted?.prefixlen ?? (f.prefixlen as number | undefined) ?? pool.default_prefixlen;
  checkPrefixlen(pool, prefixlen);
  checkPoolQuota(pool, allocations.filter((s) => s.project_id === projectId).map((s) => s.cidr), prefixlen);
  const allocated = allocations.map((s) => s.cidr);
  if (!wanted) return allocateAny(pool, allocated, prefixlen);
  const cidr = formatCidr(wanted);
  allocateSpecific(pool, allocated, cidr);
  return cidr;
}
