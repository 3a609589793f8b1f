import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ceilingScenarios, cpuSecondsPerOp, renderCeiling } from '../../../bench/selftest.ts';

test('ceiling workloads: small GETs, small PUTs, 1 MiB both ways; overrides apply', () => {
  const all = ceilingScenarios({});
  assert.equal(all.map((s) => s.name), ['ceiling-get-4k', 'ceiling-put-4k', 'ceiling-1m']);
  assert.is(all[0]?.mix.GET, 1);
  assert.is(all[1]?.mix.PUT, 1);
  assert.is(all[2]?.sizes.maxSize, 1048576);
  const short = ceilingScenarios({ duration: '1', concurrency: '8' });
  assert.ok(short.every((s) => s.durationSeconds === 1 && s.concurrency === 8));
});

test('CPU per operation and the per-core estimate', () => {
  const row = { name: 'x', opsPerSec: 10_000, mbPerSec: 40, p50: 1, p99: 5, cpuPercent: 50, eventLoopUtilization: 0.7 };
  // Half a core for 10,000 ops/s: 50 us per op, so 20,000 ops/s per core.
  assert.is(cpuSecondsPerOp(row), 0.00005);
  assert.is(cpuSecondsPerOp({ ...row, opsPerSec: 0 }), null);
  const text = renderCeiling([row]);
  assert.match(text, /CPU us\/op +ops\/s per core/);
  assert.match(text, /\nx +10,000 +40\.0 +1\.00 +5\.00 +50% +70% +50 +20,000/);
});

test.run();
