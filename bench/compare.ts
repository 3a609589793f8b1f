import type { OpSummary, SummaryKey, TargetSummary } from './summary.ts';

/**
 * `--compare`: the same scenario against two endpoints, in alternating rounds (A, B, A, B) so
 * that drift on a shared or noisy machine (caches warming, other jobs, disks filling) falls on
 * both sides alike; then the ratio B / A per operation. A ratio above 1 means B did more of
 * that (ops/s, MB/s) or took longer (latency).
 */
export interface ComparisonRow {
  readonly op: SummaryKey;
  readonly a: OpSummary | null;
  readonly b: OpSummary | null;
  /** B / A; null when A is 0 or either side did not run the operation. */
  readonly opsPerSecRatio: number | null;
  readonly mbPerSecRatio: number | null;
  readonly p50Ratio: number | null;
  readonly p99Ratio: number | null;
}

/** The order of rounds: target indexes, each target `rounds` times, interleaved (0,1,0,1...). */
export function roundOrder(targets: number, rounds: number): number[] {
  const order: number[] = [];
  for (let r = 0; r < rounds; r++) for (let t = 0; t < targets; t++) order.push(t);
  return order;
}

/** `b / a`, or null when it means nothing (a missing side, a zero or non-finite base). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return null;
  return b / a;
}

const ORDER: readonly SummaryKey[] = ['PUT', 'GET', 'HEAD', 'DELETE', 'LIST', 'ALL'];

/** One row per operation either side ran, `ALL` last. */
export function compareSummaries(a: TargetSummary, b: TargetSummary): ComparisonRow[] {
  return ORDER.filter((op) => a.ops[op] !== undefined || b.ops[op] !== undefined).map((op) => {
    const sa = a.ops[op] ?? null;
    const sb = b.ops[op] ?? null;
    return {
      op,
      a: sa,
      b: sb,
      opsPerSecRatio: ratio(sa?.opsPerSec, sb?.opsPerSec),
      // Zero-byte operations (HEAD, DELETE) have no MB/s to compare.
      mbPerSecRatio: sa?.bytes === 0 && sb?.bytes === 0 ? null : ratio(sa?.mbPerSec, sb?.mbPerSec),
      p50Ratio: ratio(sa?.latencyMs?.p50, sb?.latencyMs?.p50),
      p99Ratio: ratio(sa?.latencyMs?.p99, sb?.latencyMs?.p99),
    };
  });
}

/** `1.234` -> `1.23x`; null -> `n/a`. */
export function formatRatio(r: number | null): string {
  if (r === null) return 'n/a';
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}
