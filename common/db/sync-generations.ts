import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { KvOp, OrderedKv } from './kv.ts';

/**
 * Sent with an object update by an object server that keeps the update's async pending, in its
 * own synced commit, until the container reports the row synced: the container may then take
 * the row without a flush of its own (`SyncGenerations`).
 */
export const PENDING_KEPT_HEADER = 'x-backend-async-pending-kept';

/**
 * The container's answer to such an update when it took the row unsynced:
 * `<epoch> <generation> <synced>`. The row is durable once the same epoch reports a synced
 * generation at least the row's; another epoch means the store was reopened (a restart).
 */
export const DB_SYNC_HEADER = 'x-backend-db-sync';

export interface DbSyncReport {
  readonly epoch: string;
  /** The generation of the batch that took the update. */
  readonly generation: number;
  /** Every generation up to this one is durable. */
  readonly synced: number;
}

export function formatDbSync(report: DbSyncReport): string {
  return `${report.epoch} ${report.generation} ${report.synced}`;
}

/** The header's report; undefined when absent or not one. */
export function parseDbSync(value: string | undefined): DbSyncReport | undefined {
  if (value === undefined) return undefined;
  const [epoch, generation, synced] = value.split(' ');
  if (!epoch || !/^\d+$/.test(generation ?? '') || !/^\d+$/.test(synced ?? '')) return undefined;
  return { epoch, generation: Number(generation), synced: Number(synced) };
}

/** How long a flush that found LevelDB between logs waits before it tries again. */
const RETRY_MS = 20;

/**
 * The batches of one device's store, numbered: a batch written unsynced gets the next
 * generation, and a flush, `delayMs` after the first unsynced batch since the last one, makes
 * every generation written before it durable (the `synced` watermark). Generations count
 * within an epoch, which is new each time the store is opened: a container server that
 * restarted after a power loss may have lost what it had not synced, and says so by its new
 * epoch. Swift's container server appends an update to its `.pending` file without an fsync
 * (`db.py`, `put_record`); here only updates whose object server keeps an async pending until
 * `synced` passes them go unsynced, so none is lost to a crash.
 */
export class SyncGenerations {
  readonly epoch = randomUUID().slice(0, 13);
  private readonly kv: OrderedKv;
  private readonly clock: Clock;
  private readonly delayMs: number;
  private readonly stop = new AbortController();
  /** Unsynced batches written (the newest generation). */
  private written = 0;
  private synced = 0;
  private armed = false;

  /** `delayMs` 0: every batch is synced (no generation is ever handed out). */
  constructor(kv: OrderedKv, deps: { clock: Clock; delayMs?: number }) {
    this.kv = kv;
    this.clock = deps.clock;
    this.delayMs = deps.delayMs ?? 0;
  }

  /**
   * Writes `ops`. Durable (or with no delay configured): synced before this resolves, with every
   * unsynced batch before it (an update sent again synced must find its earlier unsynced row
   * made durable even when it changes nothing); resolves undefined. Otherwise the batch is
   * written unsynced and this resolves with its report.
   */
  async batch(ops: readonly KvOp[], durable: boolean): Promise<DbSyncReport | undefined> {
    if (durable || this.delayMs <= 0) {
      if (this.written <= this.synced) {
        await this.kv.batch(ops);
        return undefined;
      }
      await this.kv.batch(ops, { sync: false });
      await this.flush();
      return undefined;
    }
    // Nothing changed: the row is as an earlier batch left it, which may be unsynced yet.
    if (ops.length === 0) return this.report();
    await this.kv.batch(ops, { sync: false });
    this.written += 1;
    const generation = this.written;
    this.arm();
    return { epoch: this.epoch, generation, synced: this.synced };
  }

  /** The synced watermark now (for answers that wrote nothing). */
  report(): DbSyncReport {
    return { epoch: this.epoch, generation: this.written, synced: this.synced };
  }

  /** Makes every batch written so far durable; moves `synced` up to them. */
  async flush(): Promise<void> {
    for (;;) {
      const upTo = this.written;
      if (await this.kv.flush()) {
        if (upTo > this.synced) this.synced = upTo;
        return;
      }
      await this.clock.sleep(RETRY_MS, this.stop.signal);
    }
  }

  /** Stops the timer and flushes what is unsynced (a clean stop loses nothing). */
  async close(): Promise<void> {
    this.stop.abort();
    if (this.written > this.synced) await this.kv.flush().catch(() => false);
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.clock
      .sleep(this.delayMs, this.stop.signal)
      .then(() => {
        this.armed = false;
        return this.flush();
      })
      .catch(() => {
        // Closed meanwhile, or the flush failed (a full or failing disk): the next unsynced
        // batch arms it again, and nothing unsynced is reported synced meanwhile.
        this.armed = false;
      });
  }
}
