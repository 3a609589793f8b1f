import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimestampSource } from '../../../common/timestamp-source.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

test('timestamps never repeat or go backwards, even within one millisecond or when the clock steps back', () => {
  const clock = new ManualClock();
  const source = new TimestampSource(clock);
  const seen = Array.from({ length: 500 }, () => source.next());
  for (let i = 1; i < seen.length; i++) assert.ok((seen[i] as (typeof seen)[number]).isNewerThan(seen[i - 1] as (typeof seen)[number]));
  const before = source.next();
  clock.advance(-5_000);
  assert.ok(source.next().isNewerThan(before));
});

test('they follow the wall clock', () => {
  const clock = new ManualClock(1_700_000_000_000);
  const t = new TimestampSource(clock).next();
  assert.ok(Math.abs(t.seconds - 1_700_000_000) < 0.001);
});

test.run();
