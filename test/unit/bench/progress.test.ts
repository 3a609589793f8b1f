import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { every, formatProgress, ProgressLine } from '../../../bench/progress.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const snap = { label: 'A', phase: 'run', elapsedSeconds: 12, totalSeconds: 30, ops: 41230, totalOps: null, errors: 1, opsPerSec: 3435.8, recentOpsPerSec: 3502, mbPerSec: 13.42 };

test('formatProgress', () => {
  assert.is(formatProgress(snap), '[A run] 12s/30s  41,230 ops  3,436 ops/s (now 3,502)  13.4 MB/s  1 error');
  assert.is(formatProgress({ ...snap, totalSeconds: null, totalOps: 100000, errors: 0 }), '[A run] 12s  41,230/100,000 ops  3,436 ops/s (now 3,502)  13.4 MB/s  0 errors');
});

test('on a TTY the line is rewritten in place', () => {
  const written: string[] = [];
  const line = new ProgressLine({ write: (t: string) => written.push(t), isTTY: true }, new ManualClock());
  line.update('one');
  line.update('two');
  line.clear();
  line.clear();
  line.update('three');
  line.done();
  assert.equal(written, ['\r\u001b[2Kone', '\r\u001b[2Ktwo', '\r\u001b[2K', '\r\u001b[2Kthree', '\n']);
});

test('elsewhere whole lines, at most every 5 s', () => {
  const written: string[] = [];
  const clock = new ManualClock();
  const line = new ProgressLine({ write: (t: string) => written.push(t) }, clock);
  line.update('one');
  clock.advance(1000);
  line.update('two');
  clock.advance(4000);
  line.update('three');
  line.done('final');
  assert.equal(written, ['one\n', 'three\n', 'final\n']);
});

test('every ticks on the clock until stopped', async () => {
  const clock = new ManualClock();
  let ticks = 0;
  const stop = every(clock, 1000, () => ticks++);
  await Promise.resolve();
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  assert.is(ticks, 2);
  stop();
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  assert.is(ticks, 2);
});

test.run();
