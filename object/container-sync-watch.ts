import type { Clock } from '../common/clock.ts';
import type { DbSyncReport } from '../common/db/sync-generations.ts';

interface Waiter {
  readonly generation: number;
  readonly since: number;
  readonly settle: (synced: boolean) => void;
}

interface Watched {
  epoch: string;
  synced: number;
  waiters: Waiter[];
}

/**
 * What each container device reported synced (`X-Backend-Db-Sync` on its answers to kept
 * updates), and the updates waiting for it. An update taken unsynced is settled true once a
 * later answer of the same epoch reports its generation synced (under load the next answer or
 * two, one flush later); false when the device answered with another epoch (it restarted and
 * may have lost it) or nothing reported it within `waitMs` (no more traffic to it): the caller
 * then sends it again, synced. One watch is shared like the update queues.
 */
export class ContainerSyncWatch {
  private readonly clock: Clock;
  private readonly waitMs: number;
  private readonly devices = new Map<string, Watched>();
  private readonly stop = new AbortController();
  private armed = false;

  constructor(deps: { clock: Clock; waitMs: number }) {
    this.clock = deps.clock;
    this.waitMs = deps.waitMs;
  }

  /** Takes a device's report; settles the waiters it covers (or strands). */
  observe(device: string, report: DbSyncReport): void {
    let watched = this.devices.get(device);
    if (!watched || watched.epoch !== report.epoch) {
      for (const w of watched?.waiters ?? []) w.settle(false);
      watched = { epoch: report.epoch, synced: report.synced, waiters: [] };
      this.devices.set(device, watched);
    }
    if (report.synced <= watched.synced) return;
    watched.synced = report.synced;
    const synced = report.synced;
    watched.waiters = watched.waiters.filter((w) => {
      if (w.generation > synced) return true;
      w.settle(true);
      return false;
    });
  }

  /** Resolves true once `device` reports `report`'s generation synced, false as above. */
  whenSynced(device: string, report: DbSyncReport): Promise<boolean> {
    this.observe(device, report);
    const watched = this.devices.get(device) as Watched;
    if (watched.epoch !== report.epoch) return Promise.resolve(false);
    if (report.generation <= watched.synced) return Promise.resolve(true);
    return new Promise((settle) => {
      watched.waiters.push({ generation: report.generation, since: this.clock.monotonic(), settle });
      this.arm();
    });
  }

  /** Settles every waiter false (their pendings stay for the updater). */
  close(): void {
    this.stop.abort();
    for (const watched of this.devices.values()) for (const w of watched.waiters.splice(0)) w.settle(false);
  }

  /** One timer for all waiters: those older than `waitMs` are settled false. */
  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.clock
      .sleep(this.waitMs, this.stop.signal)
      .then(() => {
        this.armed = false;
        const cutoff = this.clock.monotonic() - this.waitMs;
        let left = 0;
        for (const watched of this.devices.values()) {
          watched.waiters = watched.waiters.filter((w) => {
            if (w.since > cutoff) return true;
            w.settle(false);
            return false;
          });
          left += watched.waiters.length;
        }
        if (left > 0) this.arm();
      })
      .catch(() => {
        this.armed = false; // closed
      });
  }
}
