import { join } from 'node:path';
import type { Clock } from '../common/clock.ts';
import type { HashPath } from '../common/hash-path.ts';
import { policyString, type StoragePolicies, UnknownPolicyError } from '../common/storage-policy.ts';
import { Ring } from './ring.ts';

/** The rings of a cluster: account, container, and one object ring per storage policy. */
export interface RingSet {
  readonly account: Ring;
  readonly container: Ring;
  /** Policy 0's object ring (`object.ring.gz`). */
  readonly object: Ring;
  /** Every policy's object ring by policy index (0 included); absent: policy 0 alone. */
  readonly objects?: ReadonlyMap<number, Ring>;
}

/** A policy's ring file name without `.ring.gz`: `object`, `object-1`, ... (Swift's `ring_name`). */
export function objectRingName(policyIndex: number): string {
  return policyString('object', policyIndex);
}

/**
 * The object ring of a storage policy.
 * @throws {UnknownPolicyError} when the set has no ring for it.
 */
export function objectRing(rings: RingSet, policyIndex: number): Ring {
  const ring = rings.objects ? rings.objects.get(policyIndex) : policyIndex === 0 ? rings.object : undefined;
  if (!ring) throw new UnknownPolicyError(String(policyIndex));
  return ring;
}

/**
 * Loads `account.ring.gz`, `container.ring.gz` and each policy's object ring (`object.ring.gz`,
 * `object-<N>.ring.gz`) from `swiftDir`; with no policies given, policy 0's alone.
 * @throws {RingError} when a ring is missing or bad (a policy without its ring is a config error).
 */
export function loadRingSet(swiftDir: string, hashPath: HashPath, clock: Clock, policies?: StoragePolicies): RingSet {
  const load = (name: string): Ring => Ring.load(join(swiftDir, `${name}.ring.gz`), hashPath, { clock });
  const objects = new Map<number, Ring>();
  for (const policy of policies ?? [{ index: 0 }]) objects.set(policy.index, load(objectRingName(policy.index)));
  return { account: load('account'), container: load('container'), object: objects.get(0) as Ring, objects };
}

/** Every ring of a set by its file's name (`account`, `container`, `object`, `object-1`, ...), for metrics. */
export function ringsByName(rings: RingSet): Record<string, Ring> {
  const out: Record<string, Ring> = { account: rings.account, container: rings.container, object: rings.object };
  for (const [index, ring] of rings.objects ?? []) out[objectRingName(index)] = ring;
  return out;
}
