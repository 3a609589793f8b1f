import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Daemon } from '../../../common/daemon.ts';
import { createLogger } from '../../../common/logger.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

class Counter extends Daemon {
  readonly name = 'counter';
  passes = 0;
  failNext = false;

  async runOnce(): Promise<void> {
    this.passes += 1;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('a bad pass');
    }
  }

  protected intervalMs(): number {
    return 30_000;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('runForever runs a pass, rests for the interval, runs again; stop ends it cleanly', async () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  const daemon = new Counter({ clock, logger: createLogger({ sink: (l) => lines.push(l), clock }) });
  daemon.start();
  await tick();
  assert.is(daemon.passes, 1);
  clock.advance(29_000);
  await tick();
  assert.is(daemon.passes, 1, 'ran before the interval passed');
  daemon.failNext = true;
  clock.advance(1_000);
  await tick();
  assert.is(daemon.passes, 2);
  assert.match(lines.join('\n'), /counter pass failed.*a bad pass/);
  clock.advance(30_000);
  await tick();
  assert.is(daemon.passes, 3, 'a failed pass does not stop the loop');
  await daemon.stop();
  clock.advance(60_000);
  await tick();
  assert.is(daemon.passes, 3);
});

test('runOnce can be called directly (tests, swiftlet once)', async () => {
  const daemon = new Counter({ clock: new ManualClock(), logger: createLogger({ sink: () => {} }) });
  await daemon.runOnce();
  assert.is(daemon.passes, 1);
});

test.run();
