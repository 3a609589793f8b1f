import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorLimiter } from '../../../proxy/error-limiter.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const node = { ip: '10.0.0.1', port: 6200, device: 'sda' };
const other = { ip: '10.0.0.2', port: 6200, device: 'sda' };

test('a node is skipped after more than `limit` errors within the interval, then comes back', () => {
  const clock = new ManualClock();
  const limiter = new ErrorLimiter({ clock, intervalMs: 60_000, limit: 3 });
  for (let i = 0; i < 3; i++) limiter.errorOccurred(node);
  assert.is(limiter.isLimited(node), false);
  limiter.errorOccurred(node);
  assert.is(limiter.isLimited(node), true);
  assert.is(limiter.isLimited(other), false);
  clock.advance(60_001);
  assert.is(limiter.isLimited(node), false);
});

test('errors spread out over time do not add up', () => {
  const clock = new ManualClock();
  const limiter = new ErrorLimiter({ clock, intervalMs: 60_000, limit: 2 });
  for (let i = 0; i < 10; i++) {
    limiter.errorOccurred(node);
    clock.advance(61_000);
  }
  assert.is(limiter.isLimited(node), false);
});

test('a 507 benches the node at once', () => {
  const clock = new ManualClock();
  const limiter = new ErrorLimiter({ clock, intervalMs: 60_000, limit: 10 });
  limiter.errorLimit(node);
  assert.is(limiter.isLimited(node), true);
});

test.run();
