import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ScenarioError } from '../../../bench/bench-error.ts';
import { formatBytes, parseSize, pickIndex, SizeDistribution } from '../../../bench/sizes.ts';
import { seededRandom } from '../../../common/seeded-random.ts';

test('parseSize: bytes, decimal and binary units, any case', () => {
  assert.is(parseSize(0, 'size', 'f'), 0);
  assert.is(parseSize(4096, 'size', 'f'), 4096);
  assert.is(parseSize('4KiB', 'size', 'f'), 4096);
  assert.is(parseSize('4 kib', 'size', 'f'), 4096);
  assert.is(parseSize('4KB', 'size', 'f'), 4000);
  assert.is(parseSize('1MiB', 'size', 'f'), 1048576);
  assert.is(parseSize('1.5MB', 'size', 'f'), 1500000);
  assert.is(parseSize('64MiB', 'size', 'f'), 64 * 1048576);
  assert.is(parseSize('1GiB', 'size', 'f'), 1024 ** 3);
  assert.is(parseSize('12', 'size', 'f'), 12);
});

test('parseSize: bad values name the field and value', () => {
  for (const bad of ['4XB', 'lots', -1, 1.5, true, null, '6GiB']) {
    assert.throws(
      () => parseSize(bad, 'sizes[2].max', 'x.json'),
      (e: unknown) => e instanceof ScenarioError && e.field === 'sizes[2].max' && e.code === 'BENCH_SCENARIO_INVALID' && e.message.startsWith('x.json: sizes[2].max'),
      `accepted ${String(bad)}`,
    );
  }
});

test('formatBytes', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1000), '1000 B');
  assert.is(formatBytes(4096), '4 KiB');
  assert.is(formatBytes(1572864), '1.5 MiB');
  assert.is(formatBytes(64 * 1048576), '64 MiB');
});

test('pickIndex: cumulative weights, zero weights never picked', () => {
  const cum = Float64Array.from([0, 3, 3, 10]); // weights 0, 3, 0, 7
  assert.is(pickIndex(cum, 10, 0), 1);
  assert.is(pickIndex(cum, 10, 0.2999), 1);
  assert.is(pickIndex(cum, 10, 0.3), 3);
  assert.is(pickIndex(cum, 10, 0.9999), 3);
});

test('fixed distribution always draws its size', () => {
  const d = SizeDistribution.fixed(4096);
  const random = seededRandom(1);
  for (let i = 0; i < 100; i++) assert.is(d.pick(random), 4096);
  assert.is(d.maxSize, 4096);
  assert.is(d.meanSize, 4096);
});

test('weighted classes are drawn in proportion; ranges stay within bounds and cover them', () => {
  const d = new SizeDistribution([
    { min: 100, max: 100, weight: 1 },
    { min: 1000, max: 1009, weight: 3 },
    { min: 5, max: 5, weight: 0 },
  ]);
  const random = seededRandom(42);
  let small = 0;
  const seen = new Set<number>();
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    const size = d.pick(random);
    assert.ok(size !== 5, 'a zero-weight class was drawn');
    if (size === 100) small++;
    else {
      assert.ok(size >= 1000 && size <= 1009, `out of range: ${size}`);
      seen.add(size);
    }
  }
  // Expected 1/4 = 10,000; 4 standard deviations is about 350.
  assert.ok(Math.abs(small - n / 4) < 350, `small class drawn ${small} times`);
  assert.is(seen.size, 10, 'every size of the range is drawn');
  assert.is(d.maxSize, 1009);
  assert.is(d.meanSize, 0.25 * 100 + 0.75 * 1004.5);
});

test('a distribution refuses nonsense', () => {
  assert.throws(() => new SizeDistribution([]), /at least one/);
  assert.throws(() => new SizeDistribution([{ min: 2, max: 1, weight: 1 }]), /bad size class/);
  assert.throws(() => new SizeDistribution([{ min: 1, max: 1, weight: 0 }]), /positive total weight/);
});

test.run();
