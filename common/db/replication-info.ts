import type { Metadata } from './metadata.ts';

/** A replica's sync point with another replica: rows up to `sync_point` (its ROWID) are in. */
export interface SyncPoint {
  readonly remote_id: string;
  readonly sync_point: number;
}

/** What the replicator compares between two replicas (Swift's `get_replication_info`). */
export interface ReplicationInfo {
  readonly hash: string;
  readonly id: string;
  readonly created_at: string;
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly status_changed_at: string;
  /** Live rows: objects of a container, containers of an account. */
  readonly count: number;
  readonly max_row: number;
  readonly metadata: Metadata;
  readonly storage_policy_index?: number;
}

/** What a replicator sends in `sync`: its replica's info (the sender's `ReplicationInfo`). */
export interface RemoteSyncInfo {
  readonly max_row: number;
  readonly hash: string;
  readonly id: string;
  readonly created_at: string;
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly metadata: Metadata;
  readonly status_changed_at?: string;
  readonly count?: number;
  readonly storage_policy_index?: number;
}

/** The start of a whole-database dump; the rows follow in chunks. */
export interface DumpHeader {
  readonly record: Readonly<Record<string, unknown>>;
  readonly metadata: Metadata;
  readonly max_row: number;
  readonly incoming_sync: readonly SyncPoint[];
  readonly outgoing_sync: readonly SyncPoint[];
}

