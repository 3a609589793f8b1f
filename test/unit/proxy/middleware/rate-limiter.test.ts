import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MaxSleepTimeHitError, maxRate, RateLimiter } from '../../../../proxy/middleware/rate-limiter.ts';

const LIMITS = [
  { size: 0, rate: 100 },
  { size: 10, rate: 50 },
  { size: 50, rate: 20 },
];

test('container rates interpolate between the configured sizes (Swift\'s example: size 5 gets 75)', () => {
  assert.is(maxRate(LIMITS, 5), 75);
  assert.is(maxRate(LIMITS, 10), 50);
  assert.is(maxRate(LIMITS, 30), 35);
  assert.is(maxRate(LIMITS, 1000), 20);
  // Swift never limits an empty container, nor one below the smallest size.
  assert.is(maxRate(LIMITS, 0), undefined);
  assert.is(maxRate([{ size: 10, rate: 5 }], 3), undefined);
});

test('requests at twice the rate wait their turn: the n-th sleeps (n - 1) / rate seconds', () => {
  const limiter = new RateLimiter({ clockAccuracy: 1000, maxSleepSeconds: 60, rateBufferSeconds: 5 });
  const now = 1_700_000_000_000;
  const waits = [0, 1, 2, 3].map(() => limiter.sleepSeconds('ratelimit/a/c', 10, now));
  assert.equal(waits, [0, 0.1, 0.2, 0.3]);
  // Keys are independent.
  assert.is(limiter.sleepSeconds('ratelimit/a/other', 10, now), 0);
});

test('a key idle for longer than the buffer starts over; within it, a slow key may burst', () => {
  const limiter = new RateLimiter({ clockAccuracy: 1000, maxSleepSeconds: 60, rateBufferSeconds: 5 });
  const start = 1_700_000_000_000;
  limiter.sleepSeconds('k', 1, start);
  assert.is(limiter.sleepSeconds('k', 1, start + 3000), 0);
  assert.is(limiter.sleepSeconds('k', 1, start + 3000), 0);
  assert.is(limiter.sleepSeconds('k', 1, start + 3000), 0);
  assert.is(limiter.sleepSeconds('k', 1, start + 3000), 1);
  assert.is(limiter.sleepSeconds('k', 1, start + 60_000), 0);
});

test('a request that would wait max_sleep_time_seconds is refused and does not take a turn', () => {
  const limiter = new RateLimiter({ clockAccuracy: 1000, maxSleepSeconds: 2, rateBufferSeconds: 5 });
  const now = 1_700_000_000_000;
  assert.equal([0, 1].map(() => limiter.sleepSeconds('k', 1, now)), [0, 1]);
  assert.throws(() => limiter.sleepSeconds('k', 1, now), (err: unknown) => err instanceof MaxSleepTimeHitError && err.sleepSeconds === 2);
  assert.throws(() => limiter.sleepSeconds('k', 1, now), (err: unknown) => err instanceof MaxSleepTimeHitError);
  // Once time passes, the same key goes again, from where the last admitted request left it.
  assert.is(limiter.sleepSeconds('k', 1, now + 1000), 1);
});

test.run();
