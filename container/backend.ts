import { randomUUID } from 'node:crypto';
import { DatabaseBroker, type DbRecord } from '../common/db/broker.ts';
import { Datadir } from '../common/db/datadir.ts';
import type { DbStats } from '../common/db/db-stats.ts';
import { dumpedInteger, dumpedRecord } from '../common/db/dump-record.ts';
import { DatabaseNotFoundError, ReplicationRequestError } from '../common/db/errors.ts';
import { fixedHex } from '../common/db/key-order.ts';
import { type ListingQuery, scanListing } from '../common/db/listing-scan.ts';
import type { Metadata } from '../common/db/metadata.ts';
import { decodeRecord } from '../common/db/record-codec.ts';
import type { RemoteSyncInfo, ReplicationInfo } from '../common/db/replication-info.ts';
import { Timestamp } from '../common/timestamp.ts';
import { deleteObjectRow, OBJECT_ROW_SCHEMA, type ObjectRow, putObjectRow } from '../common/db/object-row.ts';
import { incorrectPolicyIndex } from './policy-index.ts';

/** Swift's datadir name for container databases. */
export const CONTAINER_DATADIR = 'containers';

const ZERO = new Timestamp(0).internal;

/** A container database's own fields (Swift's `container_info`). */
export interface ContainerRecord extends DbRecord {
  readonly container: string;
  readonly storage_policy_index: number;
  /** What the container updater last sent the account server. */
  readonly reported_put_timestamp: string;
  readonly reported_delete_timestamp: string;
  readonly reported_object_count: number;
  readonly reported_bytes_used: number;
  /** Container sync progress; reset when `X-Container-Sync-To` changes. */
  readonly x_container_sync_point1: number;
  readonly x_container_sync_point2: number;
  /**
   * The row sequence up to which rows of other policies went to the reconciler's queue
   * (Swift's `reconciler_sync_point`); absent in databases made before it existed (-1).
   */
  readonly reconciler_sync_point?: number;
}

/** Swift's `get_info`: the record plus the counts of the container's policy. */
export interface ContainerInfo extends ContainerRecord {
  readonly object_count: number;
  readonly bytes_used: number;
  readonly hash: string;
  readonly max_row: number;
}

/** A container's info, metadata and deleted state, read together (HEAD and GET). */
export interface ContainerState {
  readonly info: ContainerInfo;
  readonly metadata: Metadata;
  readonly deleted: boolean;
}

/** An object update from an object server (or a replicator). */
export interface ObjectUpdate {
  readonly name: string;
  /** X-Timestamp: the data timestamp. */
  readonly timestamp: Timestamp;
  readonly size: number;
  readonly contentType: string;
  readonly etag: string;
  readonly storagePolicyIndex: number;
  readonly contentTypeTimestamp?: Timestamp;
  readonly metaTimestamp?: Timestamp;
}

/** What a new container database records about itself. */
export interface ContainerCreate {
  readonly account: string;
  readonly container: string;
  readonly partition: number;
  readonly storagePolicyIndex: number;
}

/** One entry of an object listing: a row, or a pseudo-directory. */
export type ObjectListingEntry = ObjectRow | { readonly subdir: string };

function countOf(record: ContainerRecord, stats: DbStats): number {
  return stats.policies[String(record.storage_policy_index)]?.[0] ?? 0;
}

function bytesOf(record: ContainerRecord, stats: DbStats): number {
  return stats.policies[String(record.storage_policy_index)]?.[1] ?? 0;
}

/**
 * One container's database (Swift's `ContainerBroker`): its info, metadata and object rows,
 * inside the device's LevelDB. Object rows are keyed by (policy index, name) as in Swift, and
 * only rows of the container's own policy are listed and counted; rows under another policy
 * wait for the reconciler.
 */
export class ContainerBroker extends DatabaseBroker<ObjectRow, ContainerRecord> {
  protected countOf(record: ContainerRecord, stats: DbStats): number {
    return countOf(record, stats);
  }

  /** A container is deleted when it is empty and its last delete is newer than its last put. */
  protected isDeletedState(record: ContainerRecord, stats: DbStats): boolean {
    return countOf(record, stats) === 0 && record.delete_timestamp > record.put_timestamp;
  }

  protected freshReplicaRecord(dumped: Readonly<Record<string, unknown>>, id: string, partition: number): ContainerRecord {
    const container = dumped['container'];
    if (typeof container !== 'string' || container === '') throw new ReplicationRequestError('dumped record has no container');
    return {
      ...dumpedRecord(dumped, id, partition),
      container,
      storage_policy_index: dumpedInteger(dumped, 'storage_policy_index', 0),
      // Swift's _newid: this replica has reported nothing to the account yet.
      reported_put_timestamp: ZERO,
      reported_delete_timestamp: ZERO,
      reported_object_count: 0,
      reported_bytes_used: 0,
      x_container_sync_point1: dumpedInteger(dumped, 'x_container_sync_point1', -1, -1),
      x_container_sync_point2: dumpedInteger(dumped, 'x_container_sync_point2', -1, -1),
      // This replica's rows have their own sequence: it queues its misplaced rows itself.
      reconciler_sync_point: -1,
    };
  }

  /**
   * Creates the container. created_at is now; status_changed_at is the put timestamp.
   * @throws {DatabaseAlreadyExistsError}
   */
  async initialize(putTimestamp: Timestamp, create: ContainerCreate, metadata: Metadata = {}): Promise<void> {
    const put = putTimestamp.internal;
    await this.create(
      {
        account: create.account,
        container: create.container,
        created_at: this.now(),
        put_timestamp: put,
        delete_timestamp: ZERO,
        status_changed_at: put,
        status: '',
        id: randomUUID(),
        partition: create.partition,
        storage_policy_index: create.storagePolicyIndex,
        reported_put_timestamp: ZERO,
        reported_delete_timestamp: ZERO,
        reported_object_count: 0,
        reported_bytes_used: 0,
        x_container_sync_point1: -1,
        x_container_sync_point2: -1,
        reconciler_sync_point: -1,
      },
      metadata,
    );
  }

  /** Swift's `get_info`, or undefined when the container has no database here. */
  async getInfo(): Promise<ContainerInfo | undefined> {
    return (await this.getState())?.info;
  }

  /** Info, metadata and deleted state in one read. */
  async getState(): Promise<ContainerState | undefined> {
    const state = await this.state();
    if (!state) return undefined;
    const { record, stats, metadata } = state;
    const info: ContainerInfo = { ...record, object_count: countOf(record, stats), bytes_used: bytesOf(record, stats), hash: stats.hash, max_row: stats.max_row };
    return { info, metadata, deleted: this.isDeletedState(record, stats) };
  }

  /** Records an object PUT (Swift's `put_object`). @throws {DatabaseNotFoundError} */
  putObject(update: ObjectUpdate): Promise<void> {
    return this.putRow(
      putObjectRow({
        name: update.name,
        createdAt: update.timestamp.internal,
        size: update.size,
        contentType: update.contentType,
        etag: update.etag,
        storagePolicyIndex: update.storagePolicyIndex,
        ...(update.contentTypeTimestamp ? { ctypeTimestamp: update.contentTypeTimestamp.internal } : {}),
        ...(update.metaTimestamp ? { metaTimestamp: update.metaTimestamp.internal } : {}),
      }),
    );
  }

  /** Records an object DELETE as a tombstone row (Swift's `delete_object`). @throws {DatabaseNotFoundError} */
  deleteObject(name: string, timestamp: Timestamp, storagePolicyIndex: number): Promise<void> {
    return this.putRow(deleteObjectRow(name, timestamp.internal, storagePolicyIndex));
  }

  /**
   * Lists the live objects of one policy (by default the container's own), Swift's
   * `list_objects_iter`.
   * @throws {DatabaseNotFoundError}
   */
  async listObjects(query: ListingQuery, storagePolicyIndex?: number): Promise<ObjectListingEntry[]> {
    let policy = storagePolicyIndex;
    if (policy === undefined) {
      const info = await this.getInfo();
      if (!info) throw new DatabaseNotFoundError(this.hash);
      policy = info.storage_policy_index;
    }
    const base = this.keys.liveBase + fixedHex(policy, 8);
    const entries = await scanListing(this.ctx.kv, base, query);
    return entries.map((e) => {
      if (e.subdir) return { subdir: e.name };
      const [, ...fields] = decodeRecord(e.value) as [number, ...unknown[]];
      return OBJECT_ROW_SCHEMA.decode(fixedHex(policy, 8) + e.name, false, fields);
    });
  }

  /**
   * Sets the container's policy (a recreated container may take a new one); status_changed_at
   * moves up to `timestamp` when the policy changes (Swift's `set_storage_policy_index`).
   */
  async setStoragePolicyIndex(policyIndex: number, timestamp: Timestamp): Promise<void> {
    const ts = timestamp.internal;
    await this.updateRecord(({ record }) => {
      if (record.storage_policy_index === policyIndex) return undefined;
      return { record: { ...record, storage_policy_index: policyIndex, status_changed_at: ts > record.status_changed_at ? ts : record.status_changed_at } };
    });
  }

  /** Container sync's progress markers; undefined leaves one as it is (Swift's `None`). */
  async setXContainerSyncPoints(point1: number | undefined, point2: number | undefined): Promise<void> {
    await this.updateRecord(({ record }) => ({
      record: { ...record, x_container_sync_point1: point1 ?? record.x_container_sync_point1, x_container_sync_point2: point2 ?? record.x_container_sync_point2 },
    }));
  }

  /**
   * Rows after sequence `since` whose policy is not the container's (Swift's
   * `get_misplaced_since`), at most `limit`, and the last sequence looked at (rows of the right
   * policy count too, so the caller's sync point moves past them).
   */
  async getMisplacedSince(since: number, limit: number): Promise<{ rows: (ObjectRow & { readonly ROWID: number })[]; last: number }> {
    const info = await this.getInfo();
    if (!info) throw new DatabaseNotFoundError(this.hash);
    const rows: (ObjectRow & { readonly ROWID: number })[] = [];
    let last = since;
    while (rows.length < limit) {
      const page = await this.getItemsSince(last, limit);
      if (page.length === 0) break;
      for (const row of page) {
        last = row.ROWID;
        if (row.storage_policy_index !== info.storage_policy_index) rows.push(row);
        if (rows.length >= limit) break;
      }
    }
    return { rows, last };
  }

  /** Remembers how far rows of other policies were queued for the reconciler. */
  async setReconcilerSyncPoint(point: number): Promise<void> {
    await this.updateRecord(({ record }) => (record.reconciler_sync_point === point ? undefined : { record: { ...record, reconciler_sync_point: point } }));
  }

  /** Remembers what the container updater sent the account server (Swift's `reported`). */
  async reported(putTimestamp: string, deleteTimestamp: string, objectCount: number, bytesUsed: number): Promise<void> {
    await this.updateRecord(({ record }) => ({
      record: { ...record, reported_put_timestamp: putTimestamp, reported_delete_timestamp: deleteTimestamp, reported_object_count: objectCount, reported_bytes_used: bytesUsed },
    }));
  }

  protected override replicationExtras(record: ContainerRecord): Partial<ReplicationInfo> {
    return { storage_policy_index: record.storage_policy_index };
  }

  /** Swift's container replicator RPC: take the remote's policy when its claim is better. */
  protected override async beforeSyncRequest(remote: RemoteSyncInfo): Promise<void> {
    const info = await this.getInfo();
    if (!info) return;
    const local = { ...info, count: info.object_count };
    if (incorrectPolicyIndex(local, remote)) await this.setStoragePolicyIndex(remote.storage_policy_index as number, Timestamp.fromMillis(this.ctx.clock.now()));
  }
}

/** The container databases of one device: `<device>/containers`. */
export class ContainerDatadir extends Datadir<ContainerBroker> {
  broker(hash: string): ContainerBroker {
    return new ContainerBroker(hash, this.ctx, OBJECT_ROW_SCHEMA);
  }
}
