/**
 * Latency percentiles, computed exactly on the recorded samples (no histogram, no
 * interpolation). The definition is the nearest-rank method: the p-th percentile of n sorted
 * samples is the sample at rank ceil(p/100 * n) (1-based), so it is always a latency that was
 * actually measured; p = 0 gives the minimum and p = 100 the maximum.
 */
export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * The nearest-rank percentile of samples already sorted ascending; NaN for no samples.
 * @param p from 0 to 100.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  // The small epsilon keeps float noise in p/100*n (99.9% of 1000 = 999.0000000000001)
  // from pushing the rank one sample up.
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n - 1e-9)));
  return sorted[rank - 1] as number;
}

/** Sorts a copy of `samples` ascending (numerically). */
export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(samples);
  copy.sort();
  return copy;
}

/** Count, min, mean, p50, p90, p99, p99.9 and max of `samples` (any order); null when empty. */
export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary | null {
  if (samples.length === 0) return null;
  const sorted = sortedCopy(samples);
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    count: sorted.length,
    min: sorted[0] as number,
    mean: sum / sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    p999: percentileOfSorted(sorted, 99.9),
    max: sorted[sorted.length - 1] as number,
  };
}
