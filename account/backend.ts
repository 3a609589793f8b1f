import { randomUUID } from 'node:crypto';
import { DatabaseBroker, type DbRecord } from '../common/db/broker.ts';
import { Datadir } from '../common/db/datadir.ts';
import { dumpedRecord } from '../common/db/dump-record.ts';
import type { DbStats } from '../common/db/db-stats.ts';
import { type ListingQuery, scanListing } from '../common/db/listing-scan.ts';
import type { Metadata } from '../common/db/metadata.ts';
import { decodeRecord } from '../common/db/record-codec.ts';
import { Timestamp } from '../common/timestamp.ts';
import { CONTAINER_ROW_SCHEMA, type ContainerRow, isDeletedContainerRow } from './container-row.ts';

/** Swift's datadir name for account databases. */
export const ACCOUNT_DATADIR = 'accounts';

const ZERO = new Timestamp(0).internal;

/** An account database's own fields (Swift's `account_stat`, without the counts). */
export type AccountRecord = DbRecord;

/** The counts of the containers of one storage policy. */
export interface PolicyStats {
  readonly container_count: number;
  readonly object_count: number;
  readonly bytes_used: number;
}

/** Swift's `get_info`: the record plus totals over every policy. */
export interface AccountInfo extends AccountRecord, PolicyStats {
  readonly hash: string;
  readonly max_row: number;
}

/** An account's info, per-policy stats, metadata and deleted state, read together. */
export interface AccountState {
  readonly info: AccountInfo;
  readonly policyStats: ReadonlyMap<number, PolicyStats>;
  readonly metadata: Metadata;
  readonly deleted: boolean;
  /** Swift's `is_status_deleted`: the account itself was deleted (not just emptied). */
  readonly statusDeleted: boolean;
}

/** A container's stats as its container server reports them. */
export interface ContainerReport {
  readonly name: string;
  readonly putTimestamp: Timestamp;
  readonly deleteTimestamp: Timestamp;
  readonly objectCount: number;
  readonly bytesUsed: number;
  readonly storagePolicyIndex: number;
}

/** One entry of a container listing: a row, or a pseudo-directory. */
export type ContainerListingEntry = ContainerRow | { readonly subdir: string };

function policyStats(stats: DbStats): Map<number, PolicyStats> {
  const out = new Map<number, PolicyStats>();
  for (const [index, [containers = 0, objects = 0, bytes = 0]] of Object.entries(stats.policies)) {
    out.set(Number(index), { container_count: containers, object_count: objects, bytes_used: bytes });
  }
  return out;
}

function totals(stats: DbStats): PolicyStats {
  let containers = 0;
  let objects = 0;
  let bytes = 0;
  for (const [c = 0, o = 0, b = 0] of Object.values(stats.policies)) {
    containers += c;
    objects += o;
    bytes += b;
  }
  return { container_count: containers, object_count: objects, bytes_used: bytes };
}

/**
 * One account's database (Swift's `AccountBroker`): its info, metadata and one row per
 * container, with totals per storage policy kept in the same batch as the rows.
 */
export class AccountBroker extends DatabaseBroker<ContainerRow, AccountRecord> {
  protected countOf(_record: AccountRecord, stats: DbStats): number {
    return totals(stats).container_count;
  }

  /** Deleted: marked so by a DELETE, or empty with a delete newer than the last put. */
  protected isDeletedState(record: AccountRecord, stats: DbStats): boolean {
    return record.status === 'DELETED' || (totals(stats).container_count === 0 && record.delete_timestamp > record.put_timestamp);
  }

  protected freshReplicaRecord(dumped: Readonly<Record<string, unknown>>, id: string, partition: number): AccountRecord {
    return dumpedRecord(dumped, id, partition);
  }

  /**
   * Creates the account. created_at is now; status_changed_at is the put timestamp.
   * @throws {DatabaseAlreadyExistsError}
   */
  async initialize(putTimestamp: Timestamp, create: { readonly account: string; readonly partition: number }, metadata: Metadata = {}): Promise<void> {
    const put = putTimestamp.internal;
    await this.create(
      {
        account: create.account,
        created_at: this.now(),
        put_timestamp: put,
        delete_timestamp: ZERO,
        status_changed_at: put,
        status: '',
        id: randomUUID(),
        partition: create.partition,
      },
      metadata,
    );
  }

  /** Info, per-policy stats, metadata and deleted state in one read; undefined when missing. */
  async getState(): Promise<AccountState | undefined> {
    const state = await this.state();
    if (!state) return undefined;
    const { record, stats, metadata } = state;
    return {
      info: { ...record, ...totals(stats), hash: stats.hash, max_row: stats.max_row },
      policyStats: policyStats(stats),
      metadata,
      deleted: this.isDeletedState(record, stats),
      statusDeleted: record.status === 'DELETED' || record.delete_timestamp > record.put_timestamp,
    };
  }

  /** Swift's `get_info`, or undefined when the account has no database here. */
  async getInfo(): Promise<AccountInfo | undefined> {
    return (await this.getState())?.info;
  }

  /** Records a container's report (Swift's `put_container`). @throws {DatabaseNotFoundError} */
  putContainer(report: ContainerReport): Promise<void> {
    const put = report.putTimestamp.internal;
    const del = report.deleteTimestamp.internal;
    return this.putRow({
      name: report.name,
      put_timestamp: put,
      delete_timestamp: del,
      object_count: report.objectCount,
      bytes_used: report.bytesUsed,
      deleted: isDeletedContainerRow(put, del, report.objectCount),
      storage_policy_index: report.storagePolicyIndex,
    });
  }

  /** Lists the account's live containers (Swift's `list_containers_iter`). */
  async listContainers(query: ListingQuery): Promise<ContainerListingEntry[]> {
    const entries = await scanListing(this.ctx.kv, this.keys.liveBase, query);
    return entries.map((e) => {
      if (e.subdir) return { subdir: e.name };
      const [, ...fields] = decodeRecord(e.value) as [number, ...unknown[]];
      return CONTAINER_ROW_SCHEMA.decode(e.name, false, fields);
    });
  }
}

/** The account databases of one device: `<device>/accounts`. */
export class AccountDatadir extends Datadir<AccountBroker> {
  broker(hash: string): AccountBroker {
    return new AccountBroker(hash, this.ctx, CONTAINER_ROW_SCHEMA);
  }
}
