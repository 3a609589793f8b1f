import type { Clock } from '../common/clock.ts';

/** Anything with an address and a device: a ring node. */
export interface NodeAddress {
  readonly ip: string;
  readonly port: number;
  readonly device: string;
}

/**
 * Swift's error limiting: a node with more than `limit` errors, the last within `intervalMs`,
 * is skipped until that interval passes; a 507 limits it at once. Keeps proxies from waiting
 * on a node that is down over and over.
 */
export class ErrorLimiter {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly limit: number;
  private readonly errors = new Map<string, { count: number; last: number }>();
  private readonly observer: ErrorLimiterObserver | undefined;

  constructor(options: { clock: Clock; intervalMs: number; limit: number; observer?: ErrorLimiterObserver }) {
    this.clock = options.clock;
    this.intervalMs = options.intervalMs;
    this.limit = options.limit;
    this.observer = options.observer;
  }

  /** Nodes being skipped now. */
  limitedCount(): number {
    const now = this.clock.monotonic();
    let n = 0;
    for (const entry of this.errors.values()) if (entry.count > this.limit && now - entry.last <= this.intervalMs) n++;
    return n;
  }

  isLimited(node: NodeAddress): boolean {
    const entry = this.errors.get(key(node));
    if (!entry) return false;
    if (this.clock.monotonic() - entry.last > this.intervalMs) {
      this.errors.delete(key(node));
      return false;
    }
    return entry.count > this.limit;
  }

  /** One more error (a timeout, a 5xx, a refused connection). */
  errorOccurred(node: NodeAddress): void {
    const now = this.clock.monotonic();
    const entry = this.errors.get(key(node));
    const count = entry && now - entry.last <= this.intervalMs ? entry.count + 1 : 1;
    this.errors.set(key(node), { count, last: now });
    this.observer?.error(key(node));
    if (count === this.limit + 1) this.observer?.limited(key(node));
  }

  /** Skip this node for a whole interval (507: its device is gone). */
  errorLimit(node: NodeAddress): void {
    const was = this.errors.get(key(node));
    this.errors.set(key(node), { count: this.limit + 1, last: this.clock.monotonic() });
    this.observer?.error(key(node));
    if (!was || was.count <= this.limit) this.observer?.limited(key(node));
  }
}

/** Told of each node error and of each time a node becomes limited (metrics). */
export interface ErrorLimiterObserver {
  error(node: string): void;
  limited(node: string): void;
}

function key(node: NodeAddress): string {
  return `${node.ip}:${node.port}/${node.device}`;
}
