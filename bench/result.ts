import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { BenchmarkRun } from './runner.ts';
import { type ComparisonRow, compareSummaries } from './compare.ts';
import { type OpName, type Scenario, scenarioToJson } from './scenario.ts';
import { summarize, type TargetSummary, timeSeries, type TimeSeries } from './summary.ts';

/**
 * The result file: everything a run measured, as JSON, so runs can be compared later and
 * reports re-rendered. Times on the per-target timeline are seconds of measured run time
 * (see `recorder.ts`); latencies are ms; MB is 10^6 bytes.
 */
export interface TargetResult {
  readonly label: string;
  readonly authUrl: string;
  readonly storageUrl: string;
  /** Each round on the target's timeline: warm-up from `from`, measured from `measureFrom` to `to`. */
  readonly rounds: readonly { from: number; measureFrom: number; to: number }[];
  readonly summary: TargetSummary;
  readonly series: TimeSeries;
  /** Operations not sent for want of an object to read or delete. */
  readonly skipped: Readonly<Partial<Record<OpName, number>>>;
  /**
   * How busy the client was during the rounds: CPU time of its main thread over wall time (100 = one core), and
   * the share of time its event loop was busy (near 1 means the client, not the endpoint, may
   * be the limit).
   */
  readonly client: { readonly cpuPercent: number; readonly eventLoopUtilization: number };
}

export interface BenchResult {
  readonly tool: 'swiftlet-bench';
  readonly formatVersion: 1;
  readonly scenario: Record<string, unknown>;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: { readonly verify: boolean; readonly rounds: number };
  readonly environment: { readonly node: string; readonly platform: string; readonly cpus: number; readonly hostname: string };
  readonly targets: readonly TargetResult[];
  /** B / A per operation when two targets ran (`--compare`). */
  readonly comparison: readonly ComparisonRow[] | null;
}

/** Builds the result document from a finished run. */
export function buildResult(scenario: Scenario, run: BenchmarkRun, options: { verify: boolean; rounds: number }): BenchResult {
  const targets: TargetResult[] = run.targets.map((t) => {
    const load = t.clientLoad;
    const skipped: Partial<Record<OpName, number>> = {};
    for (const [op, n] of Object.entries(t.recorder.skipped)) if (n > 0) skipped[op as OpName] = n;
    return {
      label: t.label,
      authUrl: t.authUrl,
      storageUrl: t.client.endpoint.storageUrl,
      rounds: t.recorder.rounds.map((r) => ({ from: r.from / 1000, measureFrom: r.measureFrom / 1000, to: r.to / 1000 })),
      summary: summarize(t.recorder),
      series: timeSeries(t.recorder),
      skipped,
      client: {
        cpuPercent: load.wallMs > 0 ? (load.cpuMs / load.wallMs) * 100 : 0,
        eventLoopUtilization: load.eluTotal > 0 ? load.eluActive / load.eluTotal : 0,
      },
    };
  });
  return {
    tool: 'swiftlet-bench',
    formatVersion: 1,
    scenario: scenarioToJson(scenario),
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.finishedAt).toISOString(),
    options,
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: availableParallelism(), hostname: hostname() },
    targets,
    comparison: targets.length === 2 ? compareSummaries((targets[0] as TargetResult).summary, (targets[1] as TargetResult).summary) : null,
  };
}

/** `bench/results/<scenario>-<yyyymmdd-hhmmss>.json` (UTC), in the git-ignored results directory. */
export function defaultResultPath(scenarioName: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join(import.meta.dirname, 'results', `${scenarioName}-${stamp}.json`);
}

/** Writes `text` to `path`, creating its directory. */
export async function writeReportFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
