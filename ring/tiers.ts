import type { Device } from './device.ts';

/**
 * Failure domains, widest first: region, zone, server, device. Replicas of a partition are
 * spread across the widest tier first. A server is `ip:port` (not just the ip as in Swift), so
 * that several storage processes on one host, as in an all-in-one cluster, count as separate
 * servers.
 */
export const TIER_NAMES = ['region', 'zone', 'server', 'device'] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** The tier keys of a device, widest first, each including its parents. */
export function tiersOf(dev: Device): readonly [string, string, string, string] {
  const region = `r${dev.region}`;
  const zone = `${region}z${dev.zone}`;
  const server = `${zone}-${dev.ip}:${dev.port}`;
  return [region, zone, server, `${server}/d${dev.id}`];
}

/**
 * How many of `replicas` may share one element of each tier when spread as widely as the
 * tiers allow: the replicas a parent may hold are split evenly over its children (rounded up).
 * Keyed by tier key; for example 3 replicas over 2 zones allows 2 per zone.
 */
export function maxReplicasPerTier(devices: readonly Device[], replicas: number): Map<string, number> {
  const children = new Map<string, Set<string>>();
  const add = (parent: string, child: string): void => {
    let set = children.get(parent);
    if (!set) children.set(parent, (set = new Set()));
    set.add(child);
  };
  for (const dev of devices) {
    if (dev.weight <= 0) continue;
    const [r, z, s, d] = tiersOf(dev);
    add('', r);
    add(r, z);
    add(z, s);
    add(s, d);
  }
  const max = new Map<string, number>([['', replicas]]);
  const walk = (parent: string): void => {
    const kids = children.get(parent);
    if (!kids) return;
    const share = Math.ceil((max.get(parent) ?? 0) / kids.size);
    for (const kid of kids) {
      max.set(kid, share);
      walk(kid);
    }
  };
  walk('');
  max.delete('');
  return max;
}
