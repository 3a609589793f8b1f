import { type ConfigOf, int, num, type Schema } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { backendPath } from '../common/http/backend-client.ts';
import type { AsyncPendingEntry } from '../object/async-pending.ts';
import { deviceDirs } from './local-devices.ts';
import type { StorageNodeContext } from './node-context.ts';

export const objectUpdaterSchema = {
  interval: num(30, { min: 0, doc: 'seconds between the starts of two passes' }),
  concurrency: int(4, { min: 1, doc: 'updates sent at once' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a container server' }),
} as const satisfies Schema;

/**
 * The object updater (Swift's): container updates that could not be delivered when their
 * object was written (async pendings) are sent to every replica of the container, and removed
 * once all of them took it. Until then the listing lags the object; this makes it catch up.
 */
export class ObjectUpdater extends Daemon {
  readonly name = 'object-updater';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof objectUpdaterSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof objectUpdaterSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: 'object-updater' }) });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    for (const device of await deviceDirs(this.ctx)) {
      const entries: AsyncPendingEntry[] = [];
      try {
        for await (const entry of this.ctx.pendings.list(device)) entries.push(entry);
      } catch (err) {
        this.logger.warn('device unavailable; skipping it', { device, err });
        continue;
      }
      let next = 0;
      await Promise.all(
        Array.from({ length: this.config.concurrency }, async () => {
          while (next < entries.length && !signal?.aborted) {
            const entry = entries[next++] as AsyncPendingEntry;
            if (await this.deliver(entry, signal)) {
              await this.ctx.pendings.remove(device, entry.id);
              this.count('successes');
            } else {
              this.count('failures');
            }
          }
        }),
      );
    }
  }

  /** Sends one update to every container replica; true when all took it. */
  private async deliver(entry: AsyncPendingEntry, signal?: AbortSignal): Promise<boolean> {
    const { op, account, container, obj, headers } = entry.update;
    const ring = this.ctx.rings.container;
    const partition = ring.getPart(account, container);
    const results = await Promise.all(
      ring.getPartNodes(partition).map(async (node) => {
        try {
          const res = await this.ctx.backend.request(node, {
            method: op,
            path: backendPath(node.device, partition, account, container, obj),
            headers: { ...headers, 'user-agent': `object-updater ${process.pid}` },
            timeoutMs: this.config.node_timeout * 1000,
            ...(signal ? { signal } : {}),
          });
          await res.body.dump();
          return res.status >= 200 && res.status < 300;
        } catch {
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }
}
