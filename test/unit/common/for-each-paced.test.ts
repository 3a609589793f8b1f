import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Clock } from '../../../common/clock.ts';
import { forEachPaced } from '../../../common/for-each-paced.ts';

/** A clock whose sleeps pass at once, moving its time on: a paced loop runs at full speed. */
function hurryingClock(): Clock & { slept: number[] } {
  let mono = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => 1_700_000_000_000 + mono,
    monotonic: () => mono,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      mono += ms;
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('at most `concurrency` items at once, every item once', async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  async function* items(): AsyncGenerator<number> {
    for (let i = 0; i < 20; i++) yield i;
  }
  await forEachPaced(items(), { concurrency: 3, perSecond: 0, clock: hurryingClock() }, async (i) => {
    running += 1;
    peak = Math.max(peak, running);
    await tick();
    seen.push(i);
    running -= 1;
  });
  assert.is(peak, 3);
  assert.equal([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
});

test('perSecond spaces the starts', async () => {
  const clock = hurryingClock();
  const starts: number[] = [];
  await forEachPaced([1, 2, 3, 4, 5], { concurrency: 2, perSecond: 10, clock }, async () => {
    starts.push(clock.monotonic());
  });
  assert.equal(starts, [0, 100, 200, 300, 400]);
});

test('an abort stops new items and rejects with its reason; a failing item stops the rest', async () => {
  const controller = new AbortController();
  const done: number[] = [];
  const aborted = forEachPaced([1, 2, 3, 4], { concurrency: 1, perSecond: 0, clock: hurryingClock(), signal: controller.signal }, async (i) => {
    done.push(i);
    if (i === 2) controller.abort(new Error('stopping'));
  });
  await aborted.then(() => assert.unreachable('should reject'), (err: Error) => assert.is(err.message, 'stopping'));
  assert.equal(done, [1, 2]);

  const failing = forEachPaced([1, 2, 3], { concurrency: 1, perSecond: 0, clock: hurryingClock() }, async (i) => {
    if (i === 2) throw new Error('broken');
  });
  await failing.then(() => assert.unreachable('should reject'), (err: Error) => assert.is(err.message, 'broken'));
});

test.run();
