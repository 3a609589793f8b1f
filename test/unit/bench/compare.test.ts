import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareSummaries, formatRatio, ratio, roundOrder } from '../../../bench/compare.ts';
import type { OpSummary, TargetSummary } from '../../../bench/summary.ts';

function op(opsPerSec: number, mbPerSec: number, p50: number, p99: number, bytes = 1): OpSummary {
  return {
    ops: opsPerSec * 10,
    opsPerSec,
    bytes,
    mbPerSec,
    latencyMs: { count: opsPerSec * 10, min: 0, mean: p50, p50, p90: p99, p99, p999: p99, max: p99 },
    errors: 0,
    errorsByStatus: {},
  };
}

test('round order alternates targets', () => {
  assert.equal(roundOrder(2, 2), [0, 1, 0, 1]);
  assert.equal(roundOrder(2, 3), [0, 1, 0, 1, 0, 1]);
  assert.equal(roundOrder(1, 1), [0]);
  assert.equal(roundOrder(1, 3), [0, 0, 0]);
});

test('ratio is B / A, null when meaningless', () => {
  assert.is(ratio(100, 250), 2.5);
  assert.is(ratio(4, 1), 0.25);
  assert.is(ratio(0, 5), null);
  assert.is(ratio(5, 0), 0);
  assert.is(ratio(undefined, 5), null);
  assert.is(ratio(5, null), null);
  assert.is(ratio(Number.NaN, 5), null);
});

test('per-operation ratios, ALL last, one-sided operations kept', () => {
  const a: TargetSummary = { measuredSeconds: 10, ops: { PUT: op(100, 0.4, 10, 40), GET: op(1000, 4, 2, 8), DELETE: op(50, 0, 5, 9, 0), ALL: op(1150, 4.4, 3, 30) } };
  const b: TargetSummary = { measuredSeconds: 10, ops: { PUT: op(150, 0.6, 5, 60), GET: op(500, 2, 4, 8), LIST: op(10, 1, 1, 1), DELETE: op(25, 0, 10, 9, 0), ALL: op(685, 3.6, 4, 30) } };
  const rows = compareSummaries(a, b);
  assert.equal(rows.map((r) => r.op), ['PUT', 'GET', 'DELETE', 'LIST', 'ALL']);
  const put = rows[0];
  assert.is(put?.opsPerSecRatio, 1.5);
  assert.ok(Math.abs((put?.mbPerSecRatio ?? 0) - 1.5) < 1e-12);
  assert.is(put?.p50Ratio, 0.5);
  assert.is(put?.p99Ratio, 1.5);
  const get = rows[1];
  assert.is(get?.opsPerSecRatio, 0.5);
  assert.is(get?.p50Ratio, 2);
  assert.is(get?.p99Ratio, 1);
  assert.is(rows[2]?.mbPerSecRatio, null, 'no MB/s ratio for zero-byte operations');
  assert.is(rows[2]?.opsPerSecRatio, 0.5);
  const list = rows[3];
  assert.is(list?.a, null);
  assert.is(list?.opsPerSecRatio, null);
  assert.is(rows[4]?.opsPerSecRatio, 685 / 1150);
});

test('formatRatio', () => {
  assert.is(formatRatio(null), 'n/a');
  assert.is(formatRatio(1.234), '1.23x');
  assert.is(formatRatio(0.5), '0.50x');
  assert.is(formatRatio(12.34), '12.3x');
  assert.is(formatRatio(123.4), '123x');
});

test.run();
