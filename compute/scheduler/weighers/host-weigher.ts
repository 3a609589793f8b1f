import type { HostState } from '../host-state.ts';
import type { RequestSpec } from '../request-spec.ts';

/**
 * One of Nova's host weighers: a raw weight per host (higher wins), normalized to 0..1 over
 * the hosts being weighed (`nova/weights.py` normalize, with the weigher's `minval`), then
 * times its multiplier. A positive multiplier spreads instances, a negative one stacks them.
 */
export interface HostWeigher {
  /** Nova's class name. */
  readonly name: string;
  readonly multiplier: number;
  /** The floor of the normalization (0 for the capacity weighers), else the lowest weight. */
  readonly minval?: number;
  /** `spec` is the request being placed (the server-group weighers read its group). */
  weigh(host: HostState, spec?: RequestSpec): number;
}

export interface WeighedHost {
  readonly host: HostState;
  readonly weight: number;
}

/** Nova's normalize: the values scaled to 0..1 between min and max; all equal is all 0. */
export function normalize(values: readonly number[], minval?: number, maxval?: number): number[] {
  if (values.length === 0) return [];
  const max = maxval ?? Math.max(...values);
  const min = minval ?? Math.min(...values);
  if (min === max) return values.map(() => 0);
  return values.map((v) => (v - min) / (max - min));
}

/** Nova's `get_weighed_objects`: summed scores, best first (ties keep the hosts' order). */
export function weighHosts(hosts: readonly HostState[], weighers: readonly HostWeigher[], spec?: RequestSpec): WeighedHost[] {
  const totals = hosts.map(() => 0);
  if (hosts.length > 1) {
    for (const weigher of weighers) {
      const raw = hosts.map((h) => Math.max(weigher.weigh(h, spec), weigher.minval ?? Number.NEGATIVE_INFINITY));
      normalize(raw, weigher.minval).forEach((w, i) => {
        totals[i] = (totals[i] ?? 0) + weigher.multiplier * w;
      });
    }
  }
  return hosts.map((host, i) => ({ host, weight: totals[i] ?? 0 })).sort((a, b) => b.weight - a.weight);
}
