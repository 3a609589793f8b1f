import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import { newRevokeEvent, REVOKE_EVENT_TYPE, RevocationList, revokeEventKey, revokeEventKeyTime, type RevokeEvent } from '../common/token/revocation.ts';
import { RevocationPoller, type RevocationSource } from '../common/token/revocation-poller.ts';
import type { RecordStore } from '../client/record-store.ts';

/**
 * The identity service's side of revocation (common/token/revocation.ts): it writes events to
 * the cluster, where every validator reads them, and knows its own at once (a token it revoked
 * is refused by this process before the next poll). Events older than any live token are
 * removed from the cluster by `prune`.
 */
export class Revocations {
  readonly list = new RevocationList();
  private readonly records: RecordStore;
  private readonly clock: Clock;
  private readonly poller: RevocationPoller;
  private readonly maxTokenLifeMs: number;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private pruning: Promise<void> | undefined;

  constructor(records: RecordStore, deps: { clock: Clock; logger: Logger }, options: { intervalMs: number; maxTokenLifeMs: number }) {
    this.records = records;
    this.clock = deps.clock;
    this.maxTokenLifeMs = options.maxTokenLifeMs;
    this.logger = deps.logger;
    this.poller = new RevocationPoller(recordSource(records), this.list, deps, options);
  }

  /** Records an event naming `facts`, now. */
  async revoke(facts: Omit<RevokeEvent, 'issued_before' | 'revoked_at'>): Promise<void> {
    const event = newRevokeEvent(facts, this.clock.now());
    const key = revokeEventKey(event);
    await this.records.create(REVOKE_EVENT_TYPE, key, event);
    this.list.add(key, event);
  }

  /** Reads the events and keeps polling; removes expired event records every hour. */
  async start(): Promise<void> {
    await this.poller.start();
    this.pruning = this.pruneHourly();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.poller.stop(), this.pruning]);
  }

  private async pruneHourly(): Promise<void> {
    for (;;) {
      try {
        await this.clock.sleep(3_600_000, this.stopping.signal);
      } catch {
        return;
      }
      await this.prune().catch((err: unknown) => this.logger.warn('revocation events: prune failed', { err }));
    }
  }

  /** One poll now (tests, and a process that wants to be current before answering). */
  poll(): Promise<void> {
    return this.poller.poll();
  }

  /** Removes event records that can no longer match a live token (an hour of slack on top). */
  async prune(): Promise<number> {
    const cutoff = this.clock.now() - this.maxTokenLifeMs - 3_600_000;
    let removed = 0;
    const page = await this.records.list(REVOKE_EVENT_TYPE, { limit: 1000 });
    for (const { key } of page.entries) {
      if (revokeEventKeyTime(key) >= cutoff) break;
      if (await this.records.delete(REVOKE_EVENT_TYPE, key)) removed++;
    }
    return removed;
  }
}

/** Revocation events read through the record store. */
export function recordSource(records: RecordStore): RevocationSource {
  return {
    async keysAfter(marker) {
      const keys: string[] = [];
      for (let after = marker; ; ) {
        // One replica's listing, as every validator polls it (client/swift-revocation-source.ts).
        const page = await records.list(REVOKE_EVENT_TYPE, { marker: after, newest: false });
        keys.push(...page.entries.map((e) => e.key));
        if (!page.truncated || page.entries.length === 0) return keys;
        after = (page.entries.at(-1) as { key: string }).key;
      }
    },
    async get(key) {
      return (await records.get(REVOKE_EVENT_TYPE, key))?.value;
    },
  };
}
