import { type LatencySummary, percentileOfSorted, summarizeLatencies } from './percentiles.ts';
import type { Recorder } from './recorder.ts';
import { OPS, type OpName } from './scenario.ts';

/**
 * Turns a `Recorder`'s samples into the numbers the reports show: one summary per operation
 * over the measured windows, and a time series in 1 s buckets. Only successful requests count
 * in ops/s, MB/s and latencies; failures are counted by reason beside them. MB is 10^6 bytes.
 */
export interface OpSummary {
  /** Successful requests in the measured windows. */
  readonly ops: number;
  readonly opsPerSec: number;
  /** Body bytes moved (sent for PUT, received for GET and LIST). */
  readonly bytes: number;
  readonly mbPerSec: number;
  /** Latency in ms, send to last byte; null when nothing succeeded. */
  readonly latencyMs: LatencySummary | null;
  readonly errors: number;
  /** Failures by status or reason, e.g. `{"503": 2, "ECONNRESET": 1}`. */
  readonly errorsByStatus: Readonly<Record<string, number>>;
}

/** The `ALL` row sums every operation. */
export type SummaryKey = OpName | 'ALL';

export interface TargetSummary {
  readonly measuredSeconds: number;
  readonly ops: Partial<Record<SummaryKey, OpSummary>>;
}

/** One second of one operation. `t` is the bucket's start, in seconds on the timeline. */
export interface SeriesBucket {
  readonly t: number;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly errors: number;
  /** Latency percentiles in ms of the requests that finished in this second (null if none). */
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  /** True when the second overlaps a warm-up (not counted in the summary). */
  readonly warmup: boolean;
}

export interface TimeSeries {
  readonly bucketSeconds: number;
  readonly ops: Partial<Record<OpName, SeriesBucket[]>>;
}

/**
 * Summaries per operation that ran (and `ALL` when more than one did).
 * @param seconds the measured time; defaults to the recorder's measured windows.
 */
export function summarize(recorder: Recorder, seconds = recorder.measuredSeconds): TargetSummary {
  const out: Partial<Record<SummaryKey, OpSummary>> = {};
  const all: number[] = [];
  let allBytes = 0;
  let allErrors = 0;
  const allByStatus: Record<string, number> = {};
  let ran = 0;
  for (const op of OPS) {
    const s = recorder.ops[op];
    const latencies: number[] = [];
    let bytes = 0;
    for (let i = 0; i < s.count; i++) {
      if (!recorder.measured(s.start[i] as number)) continue;
      latencies.push(s.latency[i] as number);
      bytes += s.bytes[i] as number;
    }
    const byStatus: Record<string, number> = {};
    let errors = 0;
    for (let i = 0; i < s.errorCount; i++) {
      if (!recorder.measured(s.errorTime[i] as number)) continue;
      const key = s.errorKey[i] as string;
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      allByStatus[key] = (allByStatus[key] ?? 0) + 1;
      errors++;
    }
    if (latencies.length === 0 && errors === 0) continue;
    ran++;
    out[op] = opSummary(latencies, bytes, errors, byStatus, seconds);
    for (const l of latencies) all.push(l);
    allBytes += bytes;
    allErrors += errors;
  }
  if (ran > 1) out.ALL = opSummary(all, allBytes, allErrors, allByStatus, seconds);
  return { measuredSeconds: seconds, ops: out };
}

function opSummary(latencies: number[], bytes: number, errors: number, errorsByStatus: Record<string, number>, seconds: number): OpSummary {
  return {
    ops: latencies.length,
    opsPerSec: seconds > 0 ? latencies.length / seconds : 0,
    bytes,
    mbPerSec: seconds > 0 ? bytes / 1e6 / seconds : 0,
    latencyMs: summarizeLatencies(latencies),
    errors,
    errorsByStatus,
  };
}

/**
 * Buckets every sample (warm-up included, flagged) by the second in which it *finished*, so a
 * bucket's rate is what the endpoint completed in that second.
 */
export function timeSeries(recorder: Recorder, bucketMs = 1000): TimeSeries {
  const end = recorder.end;
  const buckets = Math.max(1, Math.ceil(end / bucketMs));
  const out: Partial<Record<OpName, SeriesBucket[]>> = {};
  for (const op of OPS) {
    const s = recorder.ops[op];
    if (s.count === 0 && s.errorCount === 0) continue;
    const latencies: number[][] = Array.from({ length: buckets }, () => []);
    const bytes = new Float64Array(buckets);
    const errors = new Uint32Array(buckets);
    for (let i = 0; i < s.count; i++) {
      const b = Math.min(buckets - 1, Math.floor(((s.start[i] as number) + (s.latency[i] as number)) / bucketMs));
      (latencies[b] as number[]).push(s.latency[i] as number);
      bytes[b] = (bytes[b] as number) + (s.bytes[i] as number);
    }
    for (let i = 0; i < s.errorCount; i++) {
      const b = Math.min(buckets - 1, Math.floor((s.errorTime[i] as number) / bucketMs));
      errors[b] = (errors[b] as number) + 1;
    }
    out[op] = latencies.map((l, b) => {
      const from = b * bucketMs;
      // The last bucket may be short: rates are per second of the time it covers.
      const seconds = Math.max(1e-3, (Math.min(end, from + bucketMs) - from) / 1000);
      const sorted = Float64Array.from(l).sort();
      const pct = (p: number): number | null => (sorted.length === 0 ? null : percentileOfSorted(sorted, p));
      return {
        t: from / 1000,
        ops: l.length,
        opsPerSec: l.length / seconds,
        mbPerSec: (bytes[b] as number) / 1e6 / seconds,
        errors: errors[b] as number,
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: pct(100),
        warmup: recorder.rounds.some((r) => r.measureFrom > r.from && from < r.measureFrom && from + bucketMs > r.from),
      };
    });
  }
  return { bucketSeconds: bucketMs / 1000, ops: out };
}
