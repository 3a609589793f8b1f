import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Recorder } from '../../../bench/recorder.ts';
import { summarize, timeSeries } from '../../../bench/summary.ts';

test('one round: warm-up excluded, rates over the measured time, errors by status', () => {
  const r = new Recorder();
  // Monotonic clock at 5000 ms when the round starts; 1 s warm-up.
  r.startRound(5000, 1000);
  r.record('GET', 5500, 5510, 4096); // in warm-up: excluded from the summary
  r.recordError('GET', 5600, '503'); // in warm-up: excluded
  for (let i = 0; i < 10; i++) r.record('GET', 6000 + i * 100, 6000 + i * 100 + (i + 1), 4096); // latencies 1..10 ms
  r.record('PUT', 6100, 6120, 1_000_000);
  r.recordError('GET', 6200, '503');
  r.recordError('GET', 6300, '503');
  r.recordError('PUT', 6400, 'ECONNRESET');
  r.endRound(8000); // measured: 6000..8000 = 2 s
  assert.is(r.measuredSeconds, 2);
  const s = summarize(r);
  assert.is(s.measuredSeconds, 2);
  const get = s.ops.GET;
  assert.ok(get);
  assert.is(get.ops, 10);
  assert.is(get.opsPerSec, 5);
  assert.is(get.bytes, 40960);
  assert.is(get.mbPerSec, 40960 / 1e6 / 2);
  assert.is(get.latencyMs?.p50, 5);
  assert.is(get.latencyMs?.p90, 9);
  assert.is(get.latencyMs?.p99, 10);
  assert.is(get.latencyMs?.max, 10);
  assert.is(get.latencyMs?.min, 1);
  assert.is(get.errors, 2);
  assert.equal(get.errorsByStatus, { '503': 2 });
  const put = s.ops.PUT;
  assert.is(put?.ops, 1);
  assert.is(put?.mbPerSec, 0.5);
  assert.equal(put?.errorsByStatus, { ECONNRESET: 1 });
  const all = s.ops.ALL;
  assert.is(all?.ops, 11);
  assert.is(all?.errors, 3);
  assert.equal(all?.errorsByStatus, { '503': 2, ECONNRESET: 1 });
  assert.is(all?.latencyMs?.max, 20);
  assert.is(s.ops.HEAD, undefined, 'operations that did not run are left out');
});

test('two rounds continue one timeline (as in --compare); each has its own warm-up', () => {
  const r = new Recorder();
  r.startRound(1000, 500);
  r.record('PUT', 1600, 1610, 10);
  r.endRound(3000); // timeline 0..2000, measured 500..2000
  // Another target ran for a while; this round starts at monotonic 10,000 but timeline 2000.
  r.startRound(10_000, 500);
  assert.is(r.at(10_000), 2000);
  r.record('PUT', 10_100, 10_110, 10); // warm-up of round 2: excluded
  r.record('PUT', 10_600, 10_610, 10);
  r.endRound(11_000); // timeline 2000..3000, measured 2500..3000
  assert.equal(r.rounds.map((x) => ({ ...x })), [
    { from: 0, measureFrom: 500, to: 2000 },
    { from: 2000, measureFrom: 2500, to: 3000 },
  ]);
  assert.is(r.measuredSeconds, 2);
  const s = summarize(r);
  assert.is(s.ops.PUT?.ops, 2);
  assert.is(s.ops.PUT?.opsPerSec, 1);
});

test('time series: 1 s buckets by completion time, exact percentiles per bucket, warm-up flagged', () => {
  const r = new Recorder();
  r.startRound(0, 1000);
  r.record('GET', 100, 200, 1000); // ends 0.2 s: bucket 0 (warm-up)
  r.record('GET', 1500, 1501, 2000); // bucket 1, 1 ms
  r.record('GET', 1600, 1603, 2000); // bucket 1, 3 ms
  r.record('GET', 1700, 1702, 2000); // bucket 1, 2 ms
  r.record('GET', 1990, 2020, 2000); // starts in 1, ends in bucket 2 (30 ms)
  r.recordError('GET', 2100, '500'); // bucket 2
  r.endRound(2500);
  const ts = timeSeries(r);
  assert.is(ts.bucketSeconds, 1);
  const b = ts.ops.GET;
  assert.ok(b);
  assert.is(b.length, 3);
  assert.equal(b.map((x) => x.ops), [1, 3, 1]);
  assert.equal(b.map((x) => x.warmup), [true, false, false]);
  assert.equal(b.map((x) => x.errors), [0, 0, 1]);
  assert.is(b[1]?.p50, 2);
  assert.is(b[1]?.p90, 3);
  assert.is(b[1]?.max, 3);
  assert.is(b[1]?.opsPerSec, 3);
  assert.is(b[1]?.mbPerSec, 0.006);
  // The last bucket covers only 0.5 s, so its rate is per half second.
  assert.is(b[2]?.opsPerSec, 2);
  assert.is(b[2]?.p99, 30);
  assert.is(ts.ops.PUT, undefined);
});

test('an empty bucket has null latencies (a gap in the chart, not a zero)', () => {
  const r = new Recorder();
  r.startRound(0, 0);
  r.record('HEAD', 100, 110, 0);
  r.record('HEAD', 2100, 2110, 0);
  r.endRound(3000);
  const b = timeSeries(r).ops.HEAD ?? [];
  assert.is(b[1]?.ops, 0);
  assert.is(b[1]?.p50, null);
  assert.is(b[1]?.opsPerSec, 0);
});

test('many samples: the arrays grow', () => {
  const r = new Recorder();
  r.startRound(0, 0);
  for (let i = 0; i < 5000; i++) r.record('GET', i, i + (i % 100), 1);
  for (let i = 0; i < 100; i++) r.recordError('GET', i, 'x');
  r.endRound(6000);
  const s = summarize(r);
  assert.is(s.ops.GET?.ops, 5000);
  assert.is(s.ops.GET?.errors, 100);
  assert.is(s.ops.GET?.latencyMs?.max, 99);
  assert.is(r.totalOps, 5000);
});

test.run();
