import { SwiftError } from '../../common/errors.ts';

/**
 * The arithmetic of Swift's `ratelimit` middleware, with its memcache counters kept in this
 * process: per key, the time (in `1/clockAccuracy` seconds) at which the next request may go.
 */

/** One `container_ratelimit_<size> = <rate>` line; sizes between lines interpolate linearly. */
export interface SizeRate {
  readonly size: number;
  readonly rate: number;
}

/**
 * Swift's `get_maxrate`: the requests per second allowed for a container holding `size`
 * objects, or undefined for no limit (no line at or below the size, or an empty container:
 * Swift never limits a container of size 0).
 */
export function maxRate(limits: readonly SizeRate[], size: number): number | undefined {
  if (!size) return undefined;
  const sorted = [...limits].sort((a, b) => a.size - b.size);
  let index = -1;
  for (let i = 0; i < sorted.length; i++) {
    if (size < (sorted[i] as SizeRate).size) break;
    index = i;
  }
  if (index === -1) return undefined;
  const cur = sorted[index] as SizeRate;
  const nextLine = sorted[index + 1];
  if (nextLine === undefined) return cur.rate;
  return (size - cur.size) * ((nextLine.rate - cur.rate) / (nextLine.size - cur.size)) + cur.rate;
}

/** A request would have to wait longer than `max_sleep_time_seconds`. */
export class MaxSleepTimeHitError extends SwiftError {
  /** Seconds it would have had to wait. */
  readonly sleepSeconds: number;

  constructor(sleepSeconds: number) {
    super('RATELIMIT_MAX_SLEEP', `Max Sleep Time Exceeded: ${sleepSeconds.toFixed(2)}`);
    this.sleepSeconds = sleepSeconds;
  }
}

export interface RateLimiterOptions {
  /** Units per second of the counters (Swift's `clock_accuracy`, 1000: milliseconds). */
  readonly clockAccuracy: number;
  readonly maxSleepSeconds: number;
  /** How far behind a key may fall and still catch up in a burst (`rate_buffer_seconds`). */
  readonly rateBufferSeconds: number;
  /** Keys kept at most; stale ones (which would reset anyway) go first. */
  readonly maxKeys?: number;
}

/**
 * Swift's `_get_sleep_time` over an in-memory counter per key instead of memcache: each request
 * moves the key's next free time on by `1 / rate`; a request that finds it in the future sleeps
 * until then, unless that is `max_sleep_time_seconds` or more away (then it is refused and the
 * counter is put back). A key more than `rate_buffer_seconds` behind restarts from now.
 */
export class RateLimiter {
  private readonly options: RateLimiterOptions;
  private readonly nextFree = new Map<string, number>();

  constructor(options: RateLimiterOptions) {
    this.options = options;
  }

  /**
   * Seconds the request must wait before it goes.
   * @throws {MaxSleepTimeHitError} when it would wait `max_sleep_time_seconds` or more.
   */
  sleepSeconds(key: string, maxRate: number, nowMs: number): number {
    const accuracy = this.options.clockAccuracy;
    const now = Math.round((nowMs / 1000) * accuracy);
    const perRequest = Math.round(accuracy / maxRate);
    const running = (this.nextFree.get(key) ?? 0) + perRequest;
    this.set(key, running, now);
    let need = 0;
    if (now - running > this.options.rateBufferSeconds * accuracy) this.set(key, now + perRequest, now);
    else need = Math.max(running - now - perRequest, 0);
    if (this.options.maxSleepSeconds * accuracy - need <= accuracy * 0.01) {
      this.set(key, running - perRequest, now);
      throw new MaxSleepTimeHitError(need / accuracy);
    }
    return need / accuracy;
  }

  private set(key: string, value: number, now: number): void {
    this.nextFree.delete(key);
    this.nextFree.set(key, value);
    const max = this.options.maxKeys ?? 100_000;
    if (this.nextFree.size <= max) return;
    const stale = now - this.options.rateBufferSeconds * this.options.clockAccuracy;
    for (const [k, v] of this.nextFree) if (v < stale) this.nextFree.delete(k);
    while (this.nextFree.size > max) this.nextFree.delete(this.nextFree.keys().next().value as string);
  }
}
