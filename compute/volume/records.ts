import { listAllKeys, updateRecord } from '../../client/record-update.ts';
import type { RecordStore } from '../../client/record-store.ts';

/**
 * The volume service's records in its system account (`AUTH_.volume`), one record type per
 * resource, keyed `<project_id>/<id>` so a project's listing is a prefix scan. Fields follow
 * Cinder's database models (cinder/db/sqlalchemy/models.py), so the views read like Cinder's.
 */
export const VOLUMES = 'volumes';
export const SNAPSHOTS = 'snapshots';
export const BACKUPS = 'backups';
export const ATTACHMENTS = 'attachments';
export const TRANSFERS = 'transfers';
export type RecordKind = typeof VOLUMES | typeof SNAPSHOTS | typeof BACKUPS | typeof ATTACHMENTS | typeof TRANSFERS;

export interface VolumeRecord {
  readonly id: string;
  readonly project_id: string;
  readonly user_id: string;
  name: string | null;
  description: string | null;
  /** GiB. */
  size: number;
  status: string;
  readonly availability_zone: string;
  readonly created_at: string;
  updated_at: string | null;
  readonly volume_type_id: string;
  /** The type's name when the volume was made or last retyped (absent on older records: `__DEFAULT__`). */
  readonly volume_type_name?: string;
  readonly snapshot_id: string | null;
  readonly source_volid: string | null;
  readonly backup_id: string | null;
  bootable: boolean;
  metadata: Record<string, string>;
  readonly host: string;
  /** Cinder's attach_status (`detached`, `reserved`, `attaching`, `attached`); absent: detached. */
  attach_status?: string;
  /** The status before `backing-up`, which the backup puts back (Cinder's `previous_status`). */
  previous_status?: string;
  /** Cinder's migration_status (only an admin's reset sets it: there is no migration); absent: none. */
  migration_status?: string | null;
  /** Its completed attachments, as the volume view lists them. */
  attachments?: VolumeAttachmentSummary[];
  /** What the image it was made from said of itself (Cinder's volume_glance_metadata); absent: none. */
  volume_image_metadata?: Record<string, string>;
  /**
   * The snapshot a revert (3.40) is writing back, set with `reverting` and cleared when the
   * volume leaves it: what a start reads to resume a revert its dead process had begun.
   */
  reverting_to?: string;
  /** Cinder's volume_admin_metadata (`readonly`: `True`/`False`, from os-update_readonly_flag); absent: none. */
  admin_metadata?: Record<string, string>;
}

export interface SnapshotRecord {
  readonly id: string;
  readonly project_id: string;
  readonly user_id: string;
  readonly volume_id: string;
  name: string | null;
  description: string | null;
  readonly size: number;
  /** Its volume's type, whose quotas it counts in (absent on older records: `__DEFAULT__`). */
  readonly volume_type_name?: string;
  status: string;
  readonly created_at: string;
  updated_at: string | null;
  metadata: Record<string, string>;
}

export interface BackupRecord {
  readonly id: string;
  readonly project_id: string;
  readonly user_id: string;
  readonly volume_id: string;
  readonly snapshot_id: string | null;
  name: string | null;
  description: string | null;
  /** The volume's size when backed up, GiB. */
  readonly size: number;
  status: string;
  fail_reason: string | null;
  readonly availability_zone: string;
  readonly created_at: string;
  updated_at: string | null;
  readonly data_timestamp: string;
  container: string | null;
  service_metadata: string | null;
  object_count: number;
  readonly parent_id: string | null;
  readonly is_incremental: boolean;
  /** The user's key/value pairs (3.43's backup metadata); absent on older records: none. */
  metadata?: Record<string, string>;
  num_dependent_backups: number;
  /** The project whose account holds the objects, when not `project_id` (an imported record). */
  readonly account_project?: string;
  /**
   * The volume host that works on it (Cinder's backup `host`: set by a create, restore or
   * delete), whose start cleans it up when that work was cut off; absent on older records.
   */
  host?: string;
}

/** Cinder's transfer row: a volume offered to whoever has the key (`project_id`: the donor). */
export interface TransferRecord {
  readonly id: string;
  readonly project_id: string;
  readonly volume_id: string;
  readonly name: string | null;
  readonly salt: string;
  /** HMAC-SHA1 of the auth key under the salt; the key itself is shown once, at create. */
  readonly crypt_hash: string;
  readonly no_snapshots: boolean;
  readonly created_at: string;
  /**
   * The accept under way, written by the accept that won before anything moves: what the steps
   * run again from when the process doing them died (clean-up-at-start.ts).
   */
  accepting?: TransferAccept;
}

/** An accept's intent: everything its steps need, fixed when it was accepted, so every run of them does the same. */
export interface TransferAccept {
  /** The taker. */
  readonly project_id: string;
  readonly user_id: string;
  /** The volume host whose API process runs the steps, and whose start finishes them if it died. */
  readonly host: string;
  readonly volume_size: number;
  readonly volume_type_name: string;
  /** The snapshots that go along, with what they count in quotas and their donor's user. */
  readonly snapshots: readonly { readonly id: string; readonly user_id: string; readonly size: number; readonly volume_type_name?: string }[];
  /** Every quota change is made: only their keys' settling and the transfer's delete are left. */
  settled?: boolean;
}

/** One completed attachment as a volume shows it (cinder/api/v3/views/volumes.py). */
export interface VolumeAttachmentSummary {
  readonly attachment_id: string;
  readonly server_id: string | null;
  readonly host_name: string | null;
  readonly device: string | null;
  readonly attached_at: string;
}

/** Cinder's volume_attachment row. */
export interface AttachmentRecord {
  readonly id: string;
  readonly project_id: string;
  readonly volume_id: string;
  readonly instance_uuid: string | null;
  attach_status: string;
  attach_mode: string;
  connector: Record<string, unknown> | null;
  connection_info: Record<string, unknown>;
  attach_time: string | null;
  detach_time: string | null;
  readonly created_at: string;
}

interface Owned {
  readonly id: string;
  readonly project_id: string;
}

/** Reads and changes the records; changes are compare-and-swap (`updateRecord`). */
export class VolumeRecords {
  readonly store: RecordStore;

  constructor(store: RecordStore) {
    this.store = store;
  }

  /**
   * The record `id`: in `projectId` first, then, when `anyProject` (an admin), in any project.
   */
  async find<T extends Owned>(kind: RecordKind, id: string, projectId: string | undefined, anyProject: boolean): Promise<T | undefined> {
    if (projectId !== undefined) {
      const own = await this.store.get<T>(kind, `${projectId}/${id}`);
      if (own) return own.value;
    }
    if (!anyProject) return undefined;
    for await (const key of listAllKeys(this.store, kind)) {
      if (key.endsWith(`/${id}`)) return (await this.store.get<T>(kind, key))?.value;
    }
    return undefined;
  }

  /** Every record of the project (all projects when `projectId` is undefined), oldest first. */
  async list<T extends Owned & { created_at: string }>(kind: RecordKind, projectId: string | undefined): Promise<T[]> {
    const keys: string[] = [];
    for await (const key of listAllKeys(this.store, kind, projectId === undefined ? undefined : `${projectId}/`)) keys.push(key);
    const out: T[] = [];
    // A few gets at a time: a project's records are fetched in parallel, not one by one.
    for (let i = 0; i < keys.length; i += 16) {
      const page = await Promise.all(keys.slice(i, i + 16).map((k) => this.store.get<T>(kind, k)));
      for (const r of page) if (r) out.push(r.value);
    }
    return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  async create(kind: RecordKind, record: Owned): Promise<void> {
    await this.store.create(kind, `${record.project_id}/${record.id}`, record);
  }

  /**
   * Changes the record if `change` returns a new value (it sees the current one); returns the
   * record as it is after, or `undefined` when it is gone.
   */
  async update<T extends Owned>(kind: RecordKind, record: Owned, change: (current: T) => T | undefined): Promise<T | undefined> {
    const result = await updateRecord<T>(this.store, kind, `${record.project_id}/${record.id}`, (current) => change(structuredClone(current.value)));
    return result?.value;
  }

  /**
   * A status change that only one of several racing requests may make: returns the record as
   * changed when `change` made a new value and it was written, `undefined` when `change`
   * refused (it saw a status it does not move from) or the record is gone. (`update` returns the
   * current record on a refusal, which a caller checking the status it asked for would take
   * for its own win when another request had just made the same change.)
   */
  async claim<T extends Owned>(kind: RecordKind, record: Owned, change: (current: T) => T | undefined): Promise<T | undefined> {
    let won = false;
    const after = await this.update<T>(kind, record, (cur) => {
      const next = change(cur);
      won = next !== undefined;
      return next;
    });
    return won ? after : undefined;
  }

  async remove(kind: RecordKind, record: Owned): Promise<void> {
    await this.store.delete(kind, `${record.project_id}/${record.id}`);
  }
}
