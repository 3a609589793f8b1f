import type { Device } from './device.ts';
import { maxReplicasPerTier, tiersOf } from './tiers.ts';

/** How many replica assignments a device should hold: `exact` share and its integer `target`. */
export interface PartitionTarget {
  readonly exact: number;
  readonly target: number;
}

interface Share {
  readonly key: string;
  readonly weight: number;
  readonly cap: number;
}

/**
 * Splits `total` in proportion to weight, except that no item gets more than its cap: the
 * excess is shared among the others (water-filling).
 */
function waterFill(total: number, items: readonly Share[]): Map<string, number> {
  const out = new Map<string, number>();
  let free = items.filter((i) => i.weight > 0);
  let remaining = total;
  while (free.length > 0) {
    const weight = free.reduce((sum, i) => sum + i.weight, 0);
    const capped = free.filter((i) => (i.weight / weight) * remaining > i.cap);
    if (capped.length === 0) {
      for (const i of free) out.set(i.key, (i.weight / weight) * remaining);
      break;
    }
    for (const i of capped) out.set(i.key, i.cap);
    remaining -= capped.reduce((sum, i) => sum + i.cap, 0);
    free = free.filter((i) => !capped.includes(i));
  }
  return out;
}

/** The most replica assignments one device can hold: one replica of every partition. */
function deviceCap(activeDevices: number, parts: number, replicas: number): number {
  return activeDevices >= replicas ? parts : parts * Math.ceil(replicas / activeDevices);
}

/**
 * Weighted partition targets. Each device's share of `parts × replicas` is proportional to its
 * weight, except that no device is asked to hold more than one replica of every partition
 * (when there are at least as many devices as replicas): the excess goes to the others. The
 * integer targets (largest remainder) sum exactly to `parts × replicas`.
 */
export function partitionTargets(devices: readonly (Device | null)[], parts: number, replicas: number): Map<number, PartitionTarget> {
  const active = devices.filter((d): d is Device => d !== null && d.weight > 0);
  const out = new Map<number, PartitionTarget>();
  for (const d of devices) if (d) out.set(d.id, { exact: 0, target: 0 });
  if (active.length === 0) return out;
  const cap = deviceCap(active.length, parts, replicas);
  const exact = waterFill(
    parts * replicas,
    active.map((d) => ({ key: String(d.id), weight: d.weight, cap })),
  );
  const rows = active.map((d) => {
    const e = exact.get(String(d.id)) ?? 0;
    return { id: d.id, exact: e, target: Math.floor(e) };
  });
  let left = parts * replicas - rows.reduce((sum, f) => sum + f.target, 0);
  const byRemainder = [...rows].sort((a, b) => b.exact - b.target - (a.exact - a.target) || a.id - b.id);
  for (const row of byRemainder) {
    if (left <= 0) break;
    if (row.target < cap) {
      row.target += 1;
      left -= 1;
    }
  }
  for (const row of rows) out.set(row.id, { exact: row.exact, target: row.target });
  return out;
}

/**
 * The overload (a fraction) that would let every partition spread as widely as the tiers
 * allow: how far above its weighted share the busiest device must go when each region, zone
 * and server holds at most its even share of every partition's replicas. 0 when weights
 * already allow full dispersion.
 */
export function requiredOverload(devices: readonly (Device | null)[], parts: number, replicas: number): number {
  const active = devices.filter((d): d is Device => d !== null && d.weight > 0);
  if (active.length === 0) return 0;
  const weighted = partitionTargets(devices, parts, replicas);
  const maxPerTier = maxReplicasPerTier(active, replicas);
  // Spread shares top-down: a tier's share is split among its children by weight, each child
  // capped at its most replicas per partition.
  const children = new Map<string, Map<string, number>>(); // parent -> child -> weight
  const deviceOfLeaf = new Map<string, Device>();
  for (const d of active) {
    const keys = ['', ...tiersOf(d)];
    for (let level = 1; level < keys.length; level++) {
      const parent = keys[level - 1] as string;
      const child = keys[level] as string;
      let kids = children.get(parent);
      if (!kids) children.set(parent, (kids = new Map()));
      kids.set(child, (kids.get(child) ?? 0) + d.weight);
    }
    deviceOfLeaf.set(keys[keys.length - 1] as string, d);
  }
  const cap = deviceCap(active.length, parts, replicas);
  let worst = 0;
  const descend = (tier: string, share: number): void => {
    const kids = children.get(tier);
    if (!kids) {
      const dev = deviceOfLeaf.get(tier);
      const exact = dev ? (weighted.get(dev.id)?.exact ?? 0) : 0;
      if (exact > 0) worst = Math.max(worst, share / exact - 1);
      return;
    }
    const shares = waterFill(
      share,
      [...kids].map(([key, weight]) => ({ key, weight, cap: deviceOfLeaf.has(key) ? cap : (maxPerTier.get(key) ?? replicas) * parts })),
    );
    for (const [key, s] of shares) descend(key, s);
  };
  descend('', parts * replicas);
  return Math.max(0, worst);
}
