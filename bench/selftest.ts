import { BenchError } from './bench-error.ts';
import { formatTable, formatMs, formatRate, renderReport } from './report-table.ts';
import { buildResult } from './result.ts';
import { runBenchmark } from './runner.ts';
import { applyOverrides, parseScenario, type Scenario, type ScenarioOverrides } from './scenario.ts';
import type { BenchDeps } from './target.ts';
import { startTrivialServerThread } from './trivial-server.ts';

/**
 * The client's ceiling: the harness run against `trivial-server.ts`, an endpoint that answers
 * at once, in a worker thread of this process. Whatever rate it reaches is the most this
 * client can measure; an endpoint measured well below it is the bottleneck, not the harness.
 */
export interface CeilingRow {
  readonly name: string;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly cpuPercent: number;
  readonly eventLoopUtilization: number;
}

/** The standard ceiling workloads: small GETs, small PUTs, and 1 MiB objects both ways. */
export function ceilingScenarios(overrides: ScenarioOverrides): Scenario[] {
  const docs = [
    { name: 'ceiling-get-4k', size: '4KiB', mix: { GET: 1 }, concurrency: 64, duration: 5, warmup: 1, prefill: 256, containers: 1 },
    { name: 'ceiling-put-4k', size: '4KiB', mix: { PUT: 1 }, concurrency: 64, duration: 5, warmup: 1, containers: 1, cleanup: 'none' },
    { name: 'ceiling-1m', size: '1MiB', mix: { GET: 1, PUT: 1 }, concurrency: 16, duration: 5, warmup: 1, prefill: 64, containers: 1 },
  ];
  return docs.map((d) => applyOverrides(parseScenario(d, 'selftest', d.name), overrides));
}

/**
 * Runs `scenarios` one by one against a fresh trivial server each (so a PUT-only run does not
 * leave a huge in-memory namespace to the next) and returns one row per scenario, plus the
 * full report of each when `verbose`.
 */
export async function measureCeiling(scenarios: readonly Scenario[], deps: BenchDeps, report?: (text: string) => void): Promise<CeilingRow[]> {
  const rows: CeilingRow[] = [];
  for (const scenario of scenarios) {
    const server = await startTrivialServerThread();
    try {
      const run = await runBenchmark(scenario, [{ label: 'selftest', credentials: { version: 1, authUrl: `http://127.0.0.1:${server.port}/auth/v1.0`, user: 'bench:bench', key: 'bench' } }], { verify: false, rounds: 1 }, deps);
      const result = buildResult(scenario, run, { verify: false, rounds: 1 });
      report?.(renderReport(result));
      const t = result.targets[0];
      const all = t?.summary.ops.ALL ?? Object.values(t?.summary.ops ?? {})[0];
      if (!t || !all) throw new BenchError('BENCH_REQUEST_FAILED', `selftest ${scenario.name}: nothing completed`);
      rows.push({ name: scenario.name, opsPerSec: all.opsPerSec, mbPerSec: all.mbPerSec, p50: all.latencyMs?.p50 ?? null, p99: all.latencyMs?.p99 ?? null, cpuPercent: t.client.cpuPercent, eventLoopUtilization: t.client.eventLoopUtilization });
    } finally {
      await server.close();
    }
  }
  return rows;
}

/**
 * Client CPU seconds per operation: the client thread's CPU share over the ops rate. Unlike the
 * rate, it barely depends on what else the machine is doing, so it estimates the ceiling on a
 * busy machine too. Null when nothing ran.
 */
export function cpuSecondsPerOp(row: CeilingRow): number | null {
  if (row.opsPerSec <= 0 || row.cpuPercent <= 0) return null;
  return row.cpuPercent / 100 / row.opsPerSec;
}

/** The ceiling table. */
export function renderCeiling(rows: readonly CeilingRow[]): string {
  return [
    'client ceiling (against an in-process server that answers at once):',
    ...formatTable(
      ['workload', 'ops/s', 'MB/s', 'p50 ms', 'p99 ms', 'client CPU', 'event loop', 'CPU us/op', 'ops/s per core'],
      rows.map((r) => {
        const perOp = cpuSecondsPerOp(r);
        return [r.name, formatRate(r.opsPerSec), r.mbPerSec.toFixed(1), formatMs(r.p50), formatMs(r.p99), `${r.cpuPercent.toFixed(0)}%`, `${(r.eventLoopUtilization * 100).toFixed(0)}%`, perOp === null ? '-' : (perOp * 1e6).toFixed(0), perOp === null ? '-' : formatRate(1 / perOp)];
      }),
    ),
    'An endpoint measured well below these rates is the bottleneck, not the client. The server shares this machine, so the',
    'true ceiling is higher: "ops/s per core" is what the client\'s own CPU time per operation allows, whatever else runs here.',
  ].join('\n');
}
