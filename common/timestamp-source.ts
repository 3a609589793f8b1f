import type { Clock } from './clock.ts';
import { Timestamp } from './timestamp.ts';

/**
 * Timestamps for writes: wall-clock time to 10 µs, never the same twice and never going
 * backwards within this process. Two writes to one object in the same millisecond (a DELETE
 * then a PUT) must not tie: the later one would be refused as not newer.
 */
export class TimestampSource {
  private readonly clock: Clock;
  private last = 0;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  next(): Timestamp {
    // Sub-millisecond digits from the monotonic clock; the wall clock only counts whole ms.
    const fraction = (this.clock.monotonic() % 1 + 1) % 1;
    const ticks = Math.max(Timestamp.fromMillis(Math.floor(this.clock.now()) + fraction).ticks, this.last + 1);
    this.last = ticks;
    return new Timestamp(ticks);
  }
}
