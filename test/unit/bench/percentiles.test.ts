import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { percentileOfSorted, summarizeLatencies } from '../../../bench/percentiles.ts';

test('nearest rank on 1..10: p50 is the 5th, p90 the 9th, p99 the 10th', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.is(percentileOfSorted(s, 50), 5); // ceil(0.5 * 10) = 5
  assert.is(percentileOfSorted(s, 90), 9); // ceil(0.9 * 10) = 9
  assert.is(percentileOfSorted(s, 91), 10); // ceil(9.1) = 10
  assert.is(percentileOfSorted(s, 99), 10);
  assert.is(percentileOfSorted(s, 100), 10);
  assert.is(percentileOfSorted(s, 0), 1);
  assert.is(percentileOfSorted(s, 10), 1);
  assert.is(percentileOfSorted(s, 11), 2);
});

test('float noise does not push the rank up: p99.9 of 1000 samples is the 999th', () => {
  const s = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.is(percentileOfSorted(s, 99.9), 999);
  assert.is(percentileOfSorted(s, 99), 990);
  assert.is(percentileOfSorted(s, 50), 500);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(percentileOfSorted(hundred, 99), 99);
  assert.is(percentileOfSorted(hundred, 90), 90);
});

test('small and odd sample counts', () => {
  assert.ok(Number.isNaN(percentileOfSorted([], 50)));
  assert.is(percentileOfSorted([7], 50), 7);
  assert.is(percentileOfSorted([7], 99), 7);
  // Three samples: p50 = ceil(1.5) = 2nd, p90 = ceil(2.7) = 3rd, p33 = ceil(0.99) = 1st.
  assert.is(percentileOfSorted([1, 2, 3], 50), 2);
  assert.is(percentileOfSorted([1, 2, 3], 90), 3);
  assert.is(percentileOfSorted([1, 2, 3], 33), 1);
  assert.is(percentileOfSorted([1, 2, 3], 34), 2);
});

test('summarizeLatencies sorts numerically (not as strings) and reports every figure', () => {
  // As strings 100 < 20 < 3; numerically 3 < 20 < 100.
  const samples = [100, 3, 20, 7, 50, 1, 9, 30, 2, 10];
  const s = summarizeLatencies(samples);
  assert.ok(s);
  assert.is(s.count, 10);
  assert.is(s.min, 1);
  assert.is(s.max, 100);
  assert.is(s.mean, 23.2);
  // Sorted: 1 2 3 7 9 10 20 30 50 100
  assert.is(s.p50, 9);
  assert.is(s.p90, 50);
  assert.is(s.p99, 100);
  assert.is(s.p999, 100);
  assert.equal(samples, [100, 3, 20, 7, 50, 1, 9, 30, 2, 10], 'input left as it was');
});

test('summarizeLatencies of nothing is null', () => {
  assert.is(summarizeLatencies([]), null);
});

test.run();
