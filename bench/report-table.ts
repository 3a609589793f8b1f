import { formatRatio } from './compare.ts';
import type { BenchResult, TargetResult } from './result.ts';
import type { SummaryKey } from './summary.ts';

/**
 * The text report printed at the end of a run: per target, one row per operation with
 * ops/s, MB/s (10^6 bytes), latency p50/p90/p99/max in ms and errors by status; with two
 * targets, a B / A table after them.
 */
const ROWS: readonly SummaryKey[] = ['PUT', 'GET', 'HEAD', 'DELETE', 'LIST', 'ALL'];

/** Lays out rows under headers: first column left-aligned, the others right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** A rate: integers from 100 up, one decimal below. */
export function formatRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

/** Milliseconds with about three significant digits. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString('en-US');
}

/** `0`, or `3 (503: 2, ECONNRESET: 1)`, most frequent first. */
export function formatErrors(errors: number, byStatus: Readonly<Record<string, number>>): string {
  if (errors === 0) return '0';
  const parts = Object.entries(byStatus)
    .sort((x, y) => y[1] - x[1])
    .map(([k, n]) => `${k}: ${n}`);
  return `${errors} (${parts.join(', ')})`;
}

/** The table of one target, with a heading line. */
export function renderTargetTable(t: TargetResult): string[] {
  const rows = ROWS.flatMap((op) => {
    const s = t.summary.ops[op];
    if (!s) return [];
    const l = s.latencyMs;
    return [[op, s.ops.toLocaleString('en-US'), formatRate(s.opsPerSec), s.mbPerSec.toFixed(2), formatMs(l?.p50), formatMs(l?.p90), formatMs(l?.p99), formatMs(l?.max), formatErrors(s.errors, s.errorsByStatus)]];
  });
  const out = [
    `${t.label}: ${t.storageUrl}  (${t.summary.measuredSeconds.toFixed(1)} s measured; client CPU ${t.client.cpuPercent.toFixed(0)}% of a core, event loop ${(t.client.eventLoopUtilization * 100).toFixed(0)}% busy)`,
    ...formatTable(['op', 'ops', 'ops/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors'], rows),
  ];
  if (rows.length === 0) out.push('(no operation completed in the measured time)');
  const skipped = Object.entries(t.skipped).filter(([, n]) => (n ?? 0) > 0);
  if (skipped.length > 0) out.push(`skipped (no object to read or delete): ${skipped.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if (t.client.eventLoopUtilization > 0.9) out.push('warning: the client event loop was busy over 90% of the time; the client may be the bottleneck (fewer workers, or run several clients)');
  return out;
}

/** The B / A table of a comparison. */
export function renderComparisonTable(result: BenchResult): string[] {
  if (!result.comparison) return [];
  const [a, b] = result.targets;
  const rows = result.comparison.map((r) => [
    r.op,
    r.a ? formatRate(r.a.opsPerSec) : '-',
    r.b ? formatRate(r.b.opsPerSec) : '-',
    formatRatio(r.opsPerSecRatio),
    formatRatio(r.mbPerSecRatio),
    formatMs(r.a?.latencyMs?.p50),
    formatMs(r.b?.latencyMs?.p50),
    formatRatio(r.p50Ratio),
    formatRatio(r.p99Ratio),
  ]);
  return [
    `B / A  (A = ${a?.storageUrl ?? '?'}, B = ${b?.storageUrl ?? '?'}; ${result.options.rounds} alternating rounds each)`,
    ...formatTable(['op', 'A ops/s', 'B ops/s', 'ops/s B/A', 'MB/s B/A', 'A p50 ms', 'B p50 ms', 'p50 B/A', 'p99 B/A'], rows),
    'ops/s and MB/s above 1x: B is faster; latency above 1x: B is slower.',
  ];
}

/** The whole end-of-run report. */
export function renderReport(result: BenchResult): string {
  const head = `scenario ${String(result.scenario['name'])}: concurrency ${String(result.scenario['concurrency'])}${result.options.verify ? ', verifying GETs' : ''}`;
  const parts = [head, ''];
  for (const t of result.targets) parts.push(...renderTargetTable(t), '');
  if (result.comparison) parts.push(...renderComparisonTable(result), '');
  return parts.join('\n').trimEnd();
}
