import type { Clock } from '../../common/clock.ts';

/** A clock tests move by hand; `sleep` resolves when `advance` passes its deadline. */
export class ManualClock implements Clock {
  private ms: number;
  private mono = 0;
  private sleepers: { until: number; resolve: () => void }[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  monotonic(): number {
    return this.mono;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const entry = { until: this.mono + ms, resolve };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** How many sleeps are still waiting (timers a caller left behind). */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Moves both clocks forward and wakes the sleepers whose time has come. */
  advance(ms: number): void {
    this.ms += ms;
    this.mono += ms;
    const due = this.sleepers.filter((s) => s.until <= this.mono);
    this.sleepers = this.sleepers.filter((s) => s.until > this.mono);
    for (const s of due) s.resolve();
  }
}
