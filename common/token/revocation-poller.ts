import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { parseRevokeEvent, type RevocationList, type RevokeEvent } from './revocation.ts';

/**
 * Where a validator reads revocation events: the identity service through its record store,
 * a proxy through its own requests to the container and object servers. Keys are
 * `revokeEventKey`s, listed in order.
 */
export interface RevocationSource {
  /** Every key after `marker`, in order. */
  keysAfter(marker: string): Promise<string[]>;
  /** The event under `key` (undefined when it is gone or not an event). */
  get(key: string): Promise<unknown>;
}

export interface RevocationPollerOptions {
  /** How often to look for new events (Keystone's validators see them within seconds too). */
  readonly intervalMs: number;
  /** The longest a token lives: the first pass reads back that far. */
  readonly maxTokenLifeMs: number;
  /**
   * Each pass reads again from this long before the previous one started: an event written
   * by a node whose clock is behind, or listed late by a container replica, still sorts before
   * keys already seen.
   */
  readonly lookbackMs?: number;
}

/**
 * Keeps a `RevocationList` current: every `intervalMs`, lists the event keys written since the
 * last pass (minus the lookback) and reads the new ones; forgets events older than any live
 * token. A failed pass changes nothing and is tried again at the next interval.
 */
export class RevocationPoller {
  private readonly source: RevocationSource;
  private readonly list: RevocationList;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: Required<RevocationPollerOptions>;
  private since: number | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  /** Wall-clock ms of the last pass that succeeded (0: none yet). */
  lastSuccess = 0;

  constructor(source: RevocationSource, list: RevocationList, deps: { clock: Clock; logger: Logger }, options: RevocationPollerOptions) {
    this.source = source;
    this.list = list;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.options = { lookbackMs: 60_000, ...options };
  }

  /** One pass. @throws whatever the source throws (nothing is changed then). */
  async poll(): Promise<void> {
    const started = this.clock.now();
    const from = this.since ?? started - this.options.maxTokenLifeMs;
    const keys = await this.source.keysAfter(String(Math.max(0, from)).padStart(15, '0'));
    const found: [string, RevokeEvent][] = [];
    for (const key of keys) {
      if (this.list.has(key)) continue;
      const event = parseRevokeEvent(await this.source.get(key));
      if (event) found.push([key, event]);
    }
    for (const [key, event] of found) this.list.add(key, event);
    this.list.prune(started - this.options.maxTokenLifeMs);
    this.since = started - this.options.lookbackMs;
    this.lastSuccess = started;
  }

  /** Polls now and then every interval until `stop()`; the first pass is awaited. */
  async start(): Promise<void> {
    await this.poll().catch((err: unknown) => this.logger.warn('revocation events: poll failed', { err }));
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      try {
        await this.clock.sleep(this.options.intervalMs, this.stopping.signal);
      } catch {
        return;
      }
      await this.poll().catch((err: unknown) => this.logger.warn('revocation events: poll failed', { err }));
    }
  }
}
