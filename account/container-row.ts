import { isValidUtf8Name } from '../common/constraints.ts';
import { isWellFormedReserved } from '../common/reserved-name.ts';
import { ReplicationRequestError } from '../common/db/errors.ts';
import type { BaseRow, RowSchema } from '../common/db/row-schema.ts';
import { Timestamp } from '../common/timestamp.ts';

/**
 * One container row of an account (Swift's `container` table): what the container servers
 * last reported. Timestamps are internal form.
 */
export interface ContainerRow extends BaseRow {
  readonly name: string;
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly object_count: number;
  readonly bytes_used: number;
  /** 1 when the delete is newer than the put and the container held no objects. */
  readonly deleted: 0 | 1;
  readonly storage_policy_index: number;
}

/** Swift's rule for a container row: deleted when deleted after its last put, and empty. */
export function isDeletedContainerRow(putTimestamp: string, deleteTimestamp: string, objectCount: number): 0 | 1 {
  return deleteTimestamp > putTimestamp && objectCount === 0 ? 1 : 0;
}

/**
 * Swift's account `merge_items`: the newest put and delete timestamps win; the counts and the
 * policy are the incoming report's (a container's stats have no timestamp of their own, so the
 * latest report wins). Returns undefined when that changes nothing.
 */
export function mergeContainerRow(existing: ContainerRow | undefined, incoming: ContainerRow): ContainerRow | undefined {
  if (!existing) return incoming;
  const put = existing.put_timestamp > incoming.put_timestamp ? existing.put_timestamp : incoming.put_timestamp;
  const del = existing.delete_timestamp > incoming.delete_timestamp ? existing.delete_timestamp : incoming.delete_timestamp;
  const merged: ContainerRow = {
    name: incoming.name,
    put_timestamp: put,
    delete_timestamp: del,
    object_count: incoming.object_count,
    bytes_used: incoming.bytes_used,
    deleted: isDeletedContainerRow(put, del, incoming.object_count),
    storage_policy_index: incoming.storage_policy_index,
  };
  const same =
    merged.put_timestamp === existing.put_timestamp &&
    merged.delete_timestamp === existing.delete_timestamp &&
    merged.object_count === existing.object_count &&
    merged.bytes_used === existing.bytes_used &&
    merged.deleted === existing.deleted &&
    merged.storage_policy_index === existing.storage_policy_index;
  return same ? undefined : merged;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function wireTimestamp(raw: Record<string, unknown>, name: string): string {
  const value = raw[name];
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error('not a timestamp');
    return Timestamp.parse(value).internal;
  } catch {
    throw new ReplicationRequestError(`container row field ${name}: bad timestamp ${JSON.stringify(value)}`);
  }
}

function wireCount(raw: Record<string, unknown>, name: string): number {
  const value = raw[name];
  if (!isCount(value)) throw new ReplicationRequestError(`container row field ${name}: bad count ${JSON.stringify(value)}`);
  return value;
}

/** How an account's container rows are keyed, stored, counted and merged. */
export const CONTAINER_ROW_SCHEMA: RowSchema<ContainerRow> = {
  statsWidth: 3,
  key: (row) => row.name,
  encode: (row) => [row.put_timestamp, row.delete_timestamp, row.object_count, row.bytes_used, row.storage_policy_index],
  decode: (rowKey, deleted, fields) => {
    const [put, del, objects, bytes, policy] = fields as [string, string, number, number, number];
    return { name: rowKey, put_timestamp: put, delete_timestamp: del, object_count: objects, bytes_used: bytes, deleted: deleted ? 1 : 0, storage_policy_index: policy };
  },
  // Swift's triggers: container_count += 1 - deleted; the counts are added either way.
  stats: (row) => [1 - row.deleted, row.object_count, row.bytes_used],
  identity: (row) => `${row.name}-${row.put_timestamp}-${row.delete_timestamp}-${row.object_count}-${row.bytes_used}`,
  reclaimTimestamp: (row) => row.delete_timestamp,
  merge: mergeContainerRow,
  fromWire: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplicationRequestError('a container row must be a map');
    const raw = value as Record<string, unknown>;
    const name = raw['name'];
    if (typeof name !== 'string' || name === '' || name.includes('/') || !isValidUtf8Name(name, true) || !isWellFormedReserved(name)) {
      throw new ReplicationRequestError(`bad container name ${JSON.stringify(name)}`);
    }
    const put = wireTimestamp(raw, 'put_timestamp');
    const del = wireTimestamp(raw, 'delete_timestamp');
    const objects = wireCount(raw, 'object_count');
    const rowId = raw['ROWID'];
    return {
      name,
      put_timestamp: put,
      delete_timestamp: del,
      object_count: objects,
      bytes_used: wireCount(raw, 'bytes_used'),
      deleted: isDeletedContainerRow(put, del, objects),
      storage_policy_index: raw['storage_policy_index'] === undefined ? 0 : wireCount(raw, 'storage_policy_index'),
      ...(isCount(rowId) ? { ROWID: rowId } : {}),
    };
  },
};
