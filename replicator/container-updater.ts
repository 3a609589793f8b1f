import type { ConfigOf } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { backendPath, type BackendClient } from '../common/http/backend-client.ts';
import { Timestamp } from '../common/timestamp.ts';
import { CONTAINER_DATADIR, type ContainerDatadir, type ContainerInfo } from '../container/backend.ts';
import type { Device } from '../ring/device.ts';
import { boundedBackend } from './bounded-backend.ts';
import type { containerUpdaterSchema } from './db-daemon-config.ts';
import { quarantineDb } from './db-quarantine.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { type LocalDb, localDbs, devicesWithDatadir, ringDevice } from './local-dbs.ts';
import type { StorageNodeContext } from './node-context.ts';

const ZERO = new Timestamp(0).internal;

/**
 * The container updater (Swift's `ContainerUpdater`): keeps account listings true. A
 * container server tells the account servers about a container when it is created or deleted,
 * but not when its objects change, and that first report may fail. Each pass looks at every
 * container database on this node and, for one whose put or delete timestamp, object count or
 * bytes differ from what it last reported, sends them to every account replica (the same
 * `PUT /<dev>/<part>/<account>/<container>` a container server sends, with
 * `X-Account-Override-Deleted` so a deleted account still hears about its containers' ends).
 * When most replicas took it, the database records it as reported (`successes`); otherwise the
 * account is left alone for `account_suppression_time` (`failures`). When every replica
 * answers 404 the account is gone for good, and the container is quarantined as Swift does.
 *
 * Unlike Swift's updater, only primaries report: a handoff holds only the rows written while
 * a primary was away, and since the account keeps the latest report, its counts would undo a
 * primary's (`handoffs_skipped`). Its rows reach the primaries through replication, which
 * changes their counts, and they report then.
 *
 * Counts per pass: `successes`, `failures`, `no_changes`, `suppressed`, `handoffs_skipped`,
 * `quarantined`.
 */
export class ContainerUpdater extends Daemon {
  readonly name = 'container-updater';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof containerUpdaterSchema>;
  /** Accounts whose reports failed, until when (wall-clock ms): Swift's account suppressions. */
  private readonly suppressions = new Map<string, number>();

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof containerUpdaterSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    for (const [account, until] of this.suppressions) if (until <= now) this.suppressions.delete(account);
    const source = { devices: this.ctx.devices, mountCheck: this.ctx.mountCheck, datadirName: CONTAINER_DATADIR, dbs: this.ctx.containerDbs, logger: this.logger };
    const devices = await devicesWithDatadir(source);
    const backend = boundedBackend(this.ctx.backend, { timeoutMs: this.config.node_timeout * 1000, ...(signal ? { signal } : {}) });
    await forEachPaced(localDbs(source, devices), { concurrency: this.config.concurrency, perSecond: this.config.containers_per_second, clock: this.clock, signal }, async (db) => {
      try {
        await this.processContainer(db, backend);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.count('failures');
        this.logger.error('error processing container', { daemon: this.name, device: db.device, hash: db.hash, err });
      }
    });
  }

  /** Swift's `process_container`. */
  private async processContainer(db: LocalDb<ContainerDatadir>, backend: BackendClient): Promise<void> {
    const broker = db.datadir.broker(db.hash);
    const info = await broker.getInfo();
    // Auto-created (put_timestamp 0) containers have no stats worth reporting.
    if (!info || info.put_timestamp <= ZERO) return;
    if ((this.suppressions.get(info.account) ?? 0) > this.clock.now()) {
      this.count('suppressed');
      return;
    }
    const changed =
      info.put_timestamp > info.reported_put_timestamp ||
      info.delete_timestamp > info.reported_delete_timestamp ||
      info.object_count !== info.reported_object_count ||
      info.bytes_used !== info.reported_bytes_used;
    if (!changed) {
      this.count('no_changes');
      return;
    }
    if (!this.isPrimary(db.device, info)) {
      this.count('handoffs_skipped');
      return;
    }
    const { partition, nodes } = this.ctx.rings.account.getNodes(info.account);
    const statuses = await Promise.all(nodes.map((node) => this.containerReport(backend, node, partition, info)));
    const successes = statuses.filter((s) => s >= 200 && s <= 299).length;
    if (successes >= Math.floor(nodes.length / 2) + 1) {
      await broker.reported(info.put_timestamp, info.delete_timestamp, info.object_count, info.bytes_used);
      this.count('successes');
      return;
    }
    this.count('failures');
    if (nodes.length > 0 && statuses.every((s) => s === 404)) {
      await quarantineDb(broker, { devices: this.ctx.devices, device: db.device, datadirName: CONTAINER_DATADIR, reason: 'no account replicas exist', now: this.clock.now() }, this.logger);
      this.count('quarantined');
      return;
    }
    this.suppressions.set(info.account, this.clock.now() + this.config.account_suppression_time * 1000);
  }

  /** Whether this device is one of the container's primaries. */
  private isPrimary(device: string, info: ContainerInfo): boolean {
    const ring = this.ctx.rings.container;
    const self = ringDevice(ring, { bindIp: this.ctx.bindIp, port: this.ctx.ports.container }, device);
    if (!self) return false;
    return ring.getNodes(info.account, info.container).nodes.some((n) => n.id === self.id);
  }

  /** Swift's `container_report`: one account replica; the status, or 0 when it did not answer. */
  private async containerReport(backend: BackendClient, node: Device, partition: number, info: ContainerInfo): Promise<number> {
    try {
      const res = await backend.request(
        { ip: node.ip, port: node.port },
        {
          method: 'PUT',
          path: backendPath(node.device, partition, info.account, info.container),
          headers: {
            'X-Put-Timestamp': info.put_timestamp,
            'X-Delete-Timestamp': info.delete_timestamp,
            'X-Object-Count': String(info.object_count),
            'X-Bytes-Used': String(info.bytes_used),
            'X-Account-Override-Deleted': 'yes',
            'X-Backend-Storage-Policy-Index': String(info.storage_policy_index),
            'User-Agent': `container-updater ${process.pid}`,
          },
        },
      );
      await res.body.dump();
      return res.status;
    } catch (err) {
      this.logger.error('account update failed (will retry later)', { daemon: this.name, node: `${node.ip}:${node.port}/${node.device}`, err });
      return 0;
    }
  }
}
