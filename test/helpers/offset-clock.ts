import { type Clock, systemClock } from '../../common/clock.ts';

/**
 * The system clock with a wall-time offset a test can move forward (an object's X-Delete-At
 * passing, a token expiring) while sleeps and timeouts stay real, so nothing waits forever.
 */
export class OffsetClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return systemClock.now() + this.offsetMs;
  }

  monotonic(): number {
    return systemClock.monotonic();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }

  /** Moves wall time forward by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
