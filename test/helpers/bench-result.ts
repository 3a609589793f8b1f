import { compareSummaries } from '../../bench/compare.ts';
import { Recorder } from '../../bench/recorder.ts';
import type { BenchResult, TargetResult } from '../../bench/result.ts';
import { summarize, timeSeries } from '../../bench/summary.ts';

/**
 * A bench target result made from known samples: 300 GETs (latencies 1..10 ms times `scale`)
 * and 100 PUTs over 3 measured seconds after a 1 s warm-up, two 503s and one ECONNRESET.
 */
export function benchTarget(label: string, scale: number): TargetResult {
  const r = new Recorder();
  r.startRound(0, 1000);
  for (let i = 0; i < 300; i++) r.record('GET', 1000 + i * 10, 1000 + i * 10 + scale * (1 + (i % 10)), 4096);
  for (let i = 0; i < 100; i++) r.record('PUT', 1000 + i * 30, 1000 + i * 30 + scale * 5, 4096);
  r.recordError('PUT', 1500, '503');
  r.recordError('PUT', 1600, '503');
  r.recordError('GET', 1700, 'ECONNRESET');
  r.endRound(4000);
  return {
    label,
    authUrl: `http://${label.toLowerCase()}.example:8080/auth/v1.0`,
    storageUrl: `http://${label.toLowerCase()}.example:8080/v1/AUTH_test`,
    rounds: r.rounds.map((x) => ({ from: x.from / 1000, measureFrom: x.measureFrom / 1000, to: x.to / 1000 })),
    summary: summarize(r),
    series: timeSeries(r),
    skipped: {},
    client: { cpuPercent: 12.5, eventLoopUtilization: 0.2 },
  };
}

/** A result document around `targets` (a comparison when there are two). */
export function benchResult(targets: TargetResult[]): BenchResult {
  return {
    tool: 'swiftlet-bench',
    formatVersion: 1,
    scenario: { name: 'small', concurrency: 8, mix: { GET: 3, PUT: 1 }, description: '<b>not html</b>' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:05.000Z',
    options: { verify: false, rounds: targets.length === 2 ? 2 : 1 },
    environment: { node: 'v24', platform: 'linux-x64', cpus: 2, hostname: 'host' },
    targets,
    comparison: targets.length === 2 ? compareSummaries((targets[0] as TargetResult).summary, (targets[1] as TargetResult).summary) : null,
  };
}
