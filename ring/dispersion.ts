import type { Device } from './device.ts';
import { NONE_DEV } from './rebalance.ts';
import { TIER_NAMES, type TierName, maxReplicasPerTier, tiersOf } from './tiers.ts';

export interface TierDispersion {
  readonly level: TierName;
  /** e.g. `r1z2` or `r1z2-10.0.0.1:6210`. */
  readonly tier: string;
  /** Most replicas of one partition allowed here when spread as widely as the tiers allow. */
  readonly maxWanted: number;
  /** `replicas[n]` = partitions with exactly n replicas in this tier. */
  readonly replicas: readonly number[];
}

export interface DispersionReport {
  /** Percent of partitions with more replicas in some tier than `maxWanted`. */
  readonly percent: number;
  /** Partitions with more replicas in some tier than `maxWanted`. */
  readonly badParts: number;
  readonly tiers: readonly TierDispersion[];
}

/**
 * How well each partition's replicas are spread (swift-ring-builder's `dispersion`): for every
 * region, zone, server and device, how many partitions have 0, 1, 2... replicas in it.
 */
export function dispersionReport(devices: readonly (Device | null)[], table: readonly Uint16Array[], replicas: number): DispersionReport {
  const live = devices.filter((d): d is Device => d !== null);
  const wanted = maxReplicasPerTier(live, replicas);
  const keys: string[] = [];
  const levels: TierName[] = [];
  const index = new Map<string, number>();
  const tierIdx: number[][] = []; // [devId] = 4 tier indices
  for (const dev of live) {
    tierIdx[dev.id] = tiersOf(dev).map((key, level) => {
      let i = index.get(key);
      if (i === undefined) {
        i = keys.length;
        index.set(key, i);
        keys.push(key);
        levels.push(TIER_NAMES[level] as TierName);
      }
      return i;
    });
  }
  const hist = keys.map(() => new Array<number>(replicas + 1).fill(0));
  const max = keys.map((k) => wanted.get(k) ?? 0);
  const parts = table[0]?.length ?? 0;
  const perPart = new Int32Array(keys.length);
  const touched: number[] = [];
  let bad = 0;
  for (let p = 0; p < parts; p++) {
    touched.length = 0;
    for (let r = 0; r < replicas; r++) {
      const id = (table[r] as Uint16Array)[p] as number;
      if (id === NONE_DEV) continue;
      for (const t of tierIdx[id] ?? []) {
        if (perPart[t] === 0) touched.push(t);
        perPart[t] = (perPart[t] as number) + 1;
      }
    }
    let isBad = false;
    for (const t of touched) {
      const n = perPart[t] as number;
      const row = hist[t] as number[];
      const bucket = Math.min(n, replicas);
      row[bucket] = (row[bucket] as number) + 1;
      if (n > (max[t] as number)) isBad = true;
      perPart[t] = 0;
    }
    if (isBad) bad++;
  }
  const tiers = keys.map((tier, i) => {
    const h = hist[i] as number[];
    h[0] = parts - h.reduce((a, b) => a + b, 0);
    return { level: levels[i] as TierName, tier, maxWanted: max[i] as number, replicas: h };
  });
  return { percent: parts === 0 ? 0 : (bad / parts) * 100, badParts: bad, tiers };
}
