import type { ConfigOf } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import type { DatabaseBroker, DbRecord } from '../common/db/broker.ts';
import type { Datadir } from '../common/db/datadir.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import { replicateCall, replicateLoad, type ReplicateTarget } from '../common/db/replicator-client.ts';
import { parseMetadata } from '../common/db/replicator-rpc.ts';
import type { ReplicationInfo } from '../common/db/replication-info.ts';
import type { BaseRow } from '../common/db/row-schema.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import { Timestamp } from '../common/timestamp.ts';
import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';
import { boundedBackend } from './bounded-backend.ts';
import type { dbReplicatorSchema } from './db-daemon-config.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { devicesWithDatadir, type LocalDb, localDbs } from './local-dbs.ts';
import { localDevices } from './local-devices.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The database replicator (Swift's `db_replicator.Replicator`), shared by the container and
 * account replicators, which only say which ring, port and databases are theirs. One pass
 * walks every database on this node's devices in the ring, a few at a time, and for each:
 *
 * 1. Reclaim: purges deleted rows older than `reclaim_age`.
 * 2. Placement: the ring says which devices are the database's primaries. A database on a
 *    primary stays (its partition index follows the ring); anywhere else it is a handoff.
 *    A database deleted longer than `reclaim_age` ago and empty is removed whole (`removes`):
 *    on a primary, once the account has heard of the deletion (containers: the updater
 *    reported its final stats; Swift's `report_up_to_date`).
 * 3. Replicate to every other primary in turn, through the REPLICATE RPC
 *    (`common/db/replicator-rpc.ts`):
 *    a. `sync` with our replication info. The remote merges our metadata and timestamps and
 *       answers with its own info and `point`, its sync point for our rows; we merge its
 *       metadata (a container also settles its policy index and timestamps).
 *    b. 404: the remote has no such database: we send the whole of it with `load` (Swift's
 *       rsync and `complete_rsync`; `loads`).
 *    c. 507: the remote device is unmounted: a handoff device takes its turn.
 *    d. In sync when the remote's point, or ours for it, has reached our `max_row`
 *       (`no_change`), or both hold the same rows (`hashmatch`).
 *    e. Otherwise our rows since that point go over in `merge_items` requests of `per_diff`
 *       rows (Swift's usync; `diffs`, `rows_sent`), at most `max_diffs` of them per pass
 *       (`diff_capped`), then our incoming sync points (`merge_syncs`), and we record how far
 *       the remote now is. A remote more than half and more than `per_diff` rows behind gets
 *       all our rows at once, with no cap (Swift's `rsync_then_merge`; `remote_merges`); it
 *       already has a database, so `load` cannot be used, and the rows are the whole database.
 * 4. A handoff database that every primary (or `handoff_delete` of them) now has, and that
 *    took no new rows meanwhile, is removed from here (`handoffs_removed`).
 *
 * Counts per pass: `attempted`, `success` and `failure` (per replica), `replicated`
 * (databases every replica took), the names above, `remote_unmounted` (507s) and
 * `reclaimed_rows`.
 */
export abstract class DbReplicator<B extends DatabaseBroker<BaseRow, DbRecord>, D extends Datadir<B>> extends Daemon {
  protected readonly ctx: StorageNodeContext;
  protected readonly config: ConfigOf<typeof dbReplicatorSchema>;
  /** Swift's datadir name: `containers` or `accounts`. */
  protected abstract readonly datadirName: string;
  /** Which ring and port are this replicator's. */
  protected abstract readonly serverType: 'account' | 'container';

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof dbReplicatorSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger });
    this.ctx = ctx;
    this.config = config;
  }

  /** The node's databases of this kind. */
  protected abstract datadirs(): DeviceDbs<D>;
  /** The database's names and whether its deletion may be reclaimed; undefined when it is gone. */
  protected abstract identify(broker: B): Promise<DbIdentity | undefined>;

  /**
   * What the sender takes from the remote's `sync` answer (Swift's `_handle_sync_response`):
   * its metadata. The container replicator adds policy index and timestamps.
   */
  protected async handleSyncAnswer(broker: B, _info: ReplicationInfo, remote: RemoteReplicationInfo): Promise<void> {
    if (Object.keys(remote.metadata).length > 0) await broker.updateMetadata(remote.metadata);
  }

  /**
   * After a database was replicated (Swift's `_post_replicate_hook`), with each replica's
   * outcome; the container replicator queues misplaced objects for the reconciler here.
   */
  protected async postReplicate(_backend: BackendClient, _broker: B, _info: ReplicationInfo, _results: readonly boolean[]): Promise<void> {}

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const ring = this.ctx.rings[this.serverType];
    const local = localDevices(this.ctx, this.serverType);
    const byName = new Map(local.map((d) => [d.device, d]));
    const source = { devices: this.ctx.devices, mountCheck: this.ctx.mountCheck, datadirName: this.datadirName, dbs: this.datadirs(), logger: this.logger };
    const devices = await devicesWithDatadir(source, [...byName.keys()]);
    const backend = boundedBackend(this.ctx.backend, { timeoutMs: this.config.node_timeout * 1000, ...(signal ? { signal } : {}) });
    const pass: Pass = { ring, backend, signal };
    await forEachPaced(localDbs(source, devices), { concurrency: this.config.concurrency, perSecond: this.config.databases_per_second, clock: this.clock, signal }, async (db) => {
      try {
        await this.replicateDb(pass, db, byName.get(db.device) as Device);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.count('failure');
        this.logger.error('database replication failed', { daemon: this.name, device: db.device, hash: db.hash, err });
      }
    });
  }

  /** Swift's `_replicate_object`: one database, to every replica it should be on. */
  private async replicateDb(pass: Pass, db: LocalDb<D>, self: Device): Promise<void> {
    this.count('attempted');
    const broker = db.datadir.broker(db.hash);
    const now = Timestamp.fromMillis(this.clock.now());
    const { rows } = await broker.reclaim(now, this.config.reclaim_age);
    if (rows > 0) this.count('reclaimed_rows', rows);
    const identity = await this.identify(broker);
    if (!identity) return; // removed while we walked
    const partition = pass.ring.getPart(identity.account, identity.container);
    const primaries = pass.ring.getPartNodes(partition);
    const shouldBeHere = primaries.some((n) => n.id === self.id);
    // A handoff does not report to the account (its primaries do), so its copy of a long
    // deleted database goes without waiting for a report.
    if ((await broker.isReclaimable(now, this.config.reclaim_age)) && (identity.reclaimable || !shouldBeHere)) {
      await broker.destroy();
      this.count('removes');
      return;
    }
    const info = await broker.getReplicationInfo();
    if (db.partition !== partition) {
      if (shouldBeHere) await broker.setPartition(partition);
      else this.logger.info('database is in the wrong partition; replicating it out', { daemon: this.name, hash: db.hash, found: db.partition, belongs: partition });
    }
    const targets: Device[] = primaries.filter((n) => n.id !== self.id);
    const handoffs = pass.ring.moreNodes(partition);
    const results: boolean[] = [];
    for (let i = 0; i < targets.length; i++) {
      pass.signal?.throwIfAborted();
      const node = targets[i] as Device;
      let outcome: Outcome = 'failed';
      try {
        outcome = await this.replicateTo(pass, node, partition, broker, info);
      } catch (err) {
        if (pass.signal?.aborted) throw err;
        this.logger.error('error syncing a database with a replica', { daemon: this.name, hash: db.hash, node: `${node.ip}:${node.port}/${node.device}`, err });
      }
      if (outcome === 'unmounted') {
        this.count('remote_unmounted');
        this.logger.error('remote drive not mounted', { daemon: this.name, node: `${node.ip}:${node.port}/${node.device}` });
        const next = nextHandoff(handoffs, self, targets);
        if (next) targets.push(next);
        else this.logger.error('not enough handoff devices to reach the replica count', { daemon: this.name, partition });
      }
      this.count(outcome === 'ok' ? 'success' : 'failure');
      results.push(outcome === 'ok');
    }
    const successes = results.filter(Boolean).length;
    if (results.length > 0 && successes === results.length) this.count('replicated');
    await this.postReplicate(pass.backend, broker, info, results);
    if (!shouldBeHere) await this.cleanupHandoff(broker, info, results.length, successes);
  }

  /** Swift's `cleanup_post_replicate`: a handoff goes once the primaries have it, unchanged. */
  private async cleanupHandoff(broker: B, info: ReplicationInfo, attempts: number, successes: number): Promise<void> {
    const needed = this.config.handoff_delete > 0 ? this.config.handoff_delete : attempts;
    if (attempts === 0 || successes < needed) {
      this.logger.debug('not removing handoff database yet', { daemon: this.name, hash: broker.hash, successes, attempts });
      return;
    }
    // Checked and removed in one step: a row written meanwhile keeps the database here, and
    // the next pass sends it first.
    const removed = await broker.destroyIf((state) => state !== undefined && state.stats.max_row === info.max_row);
    if (!removed) {
      this.logger.debug('not removing handoff database: it changed', { daemon: this.name, hash: broker.hash });
      return;
    }
    this.count('handoffs_removed');
  }

  /** Swift's `_repl_to_node` and `_handle_sync_response`. */
  private async replicateTo(pass: Pass, node: Device, partition: number, broker: B, info: ReplicationInfo): Promise<Outcome> {
    const target: ReplicateTarget = { node: { ip: node.ip, port: node.port }, device: node.device, partition, hash: broker.hash };
    const answer = await replicateCall(pass.backend, target, 'sync', info);
    if (answer.status === 404) return this.load(pass, target, broker, info);
    if (answer.status === 507) return 'unmounted';
    if (answer.status < 200 || answer.status > 299) {
      this.logger.error('bad answer to sync', { daemon: this.name, status: answer.status, node: `${node.ip}:${node.port}/${node.device}` });
      return 'failed';
    }
    const remote = parseRemoteInfo(answer.body);
    const localSync = await broker.getSync(remote.id, false);
    await this.handleSyncAnswer(broker, info, remote);
    // Swift's _in_sync.
    if (Math.max(remote.point, localSync) >= info.max_row) {
      this.count('no_change');
      return 'ok';
    }
    if (remote.hash === info.hash) {
      this.count('hashmatch');
      await broker.mergeSyncs([{ remote_id: remote.id, sync_point: remote.point }], false);
      return 'ok';
    }
    // Swift's _choose_replication_mode: far behind, everything at once.
    const farBehind = remote.max_row / info.max_row < 0.5 && info.max_row - remote.max_row > this.config.per_diff;
    if (farBehind) this.count('remote_merges');
    return this.usync(pass, target, broker, info, Math.max(remote.point, localSync), remote.id, farBehind ? Infinity : this.config.max_diffs);
  }

  /** Swift's `_usync_db`: our rows since `point`, in order, then our sync table. */
  private async usync(pass: Pass, target: ReplicateTarget, broker: B, info: ReplicationInfo, point: number, remoteId: string, maxCalls: number): Promise<Outcome> {
    this.count('diffs');
    const syncTable = await broker.getSyncs(true);
    let rows = await broker.getItemsSince(point, this.config.per_diff);
    for (let calls = 0; rows.length > 0 && calls < maxCalls; calls++) {
      pass.signal?.throwIfAborted();
      const answer = await replicateCall(pass.backend, target, 'merge_items', rows, info.id);
      if (answer.status === 507) return 'unmounted';
      if (answer.status < 200 || answer.status > 299) {
        this.logger.error('bad answer to merge_items', { daemon: this.name, status: answer.status, hash: broker.hash });
        return 'failed';
      }
      this.count('rows_sent', rows.length);
      // The remote records the last ROWID as its sync point: rows go in order, with no gaps.
      point = (rows.at(-1) as { ROWID: number }).ROWID;
      rows = await broker.getItemsSince(point, this.config.per_diff);
    }
    if (rows.length > 0) {
      this.count('diff_capped');
      this.logger.debug('replica is more than max_diffs * per_diff rows behind; it catches up next pass', { daemon: this.name, hash: broker.hash });
      return 'failed';
    }
    const answer = await replicateCall(pass.backend, target, 'merge_syncs', syncTable);
    if (answer.status < 200 || answer.status > 299) return answer.status === 507 ? 'unmounted' : 'failed';
    await broker.mergeSyncs([{ remote_id: remoteId, sync_point: point }], false);
    return 'ok';
  }

  /** The remote has no database: send the whole of it (Swift's `_rsync_db`). */
  private async load(pass: Pass, target: ReplicateTarget, broker: B, info: ReplicationInfo): Promise<Outcome> {
    this.count('loads');
    // A big database takes a while to stream; allow a second per thousand rows on top.
    const timeoutMs = this.config.node_timeout * 1000 + Math.max(0, info.max_row);
    const backend = boundedBackend(pass.backend, { timeoutMs });
    const answer = await replicateLoad(backend, target, info.id, broker.dump(this.config.per_diff));
    if (answer.status === 201) return 'ok';
    if (answer.status === 507) return 'unmounted';
    // 409: another replicator created it first; the next pass syncs with it.
    this.logger.warn('load refused', { daemon: this.name, status: answer.status, hash: broker.hash, device: target.device });
    return 'failed';
  }
}

/** What the replicator knows of one database beyond its replication info. */
export interface DbIdentity {
  readonly account: string;
  readonly container?: string;
  /**
   * Whether a deleted, reclaimable database may be removed: the account has its final stats
   * (Swift's `report_up_to_date`; always true for accounts).
   */
  readonly reclaimable: boolean;
}

/** The remote's `sync` answer. */
export interface RemoteReplicationInfo extends ReplicationInfo {
  /** The remote's incoming sync point for our rows. */
  readonly point: number;
}

type Outcome = 'ok' | 'failed' | 'unmounted';

interface Pass {
  readonly ring: Ring;
  readonly backend: BackendClient;
  readonly signal: AbortSignal | undefined;
}

/** The next handoff device not already used and not this one. */
function nextHandoff(handoffs: Iterator<Device>, self: Device, used: readonly Device[]): Device | undefined {
  for (let next = handoffs.next(); !next.done; next = handoffs.next()) {
    if (next.value.id !== self.id && !used.some((d) => d.id === next.value.id)) return next.value;
  }
  return undefined;
}

function parseRemoteInfo(body: unknown): RemoteReplicationInfo {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (name: string): string => {
    const v = raw[name];
    if (typeof v !== 'string') throw new Error(`sync answer has no ${name}`);
    return v;
  };
  const int = (name: string): number => {
    const v = raw[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`sync answer has no ${name}`);
    return v;
  };
  const policy = raw['storage_policy_index'];
  return {
    hash: text('hash'),
    id: text('id'),
    created_at: text('created_at'),
    put_timestamp: text('put_timestamp'),
    delete_timestamp: text('delete_timestamp'),
    status_changed_at: text('status_changed_at'),
    count: int('count'),
    max_row: int('max_row'),
    point: int('point'),
    metadata: parseMetadata(raw['metadata']),
    ...(typeof policy === 'number' ? { storage_policy_index: policy } : {}),
  };
}
