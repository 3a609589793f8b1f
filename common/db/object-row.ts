import { fixedHex } from './key-order.ts';
import { ReplicationRequestError } from './errors.ts';
import type { BaseRow, RowSchema } from './row-schema.ts';
import { isValidUtf8Name } from '../constraints.ts';
import { isWellFormedReserved } from '../reserved-name.ts';
import { Timestamp } from '../timestamp.ts';

/**
 * One object row of a container (Swift's `object` table). Swift folds three timestamps into
 * `created_at`; here they are separate fields: the data timestamp (`created_at`, the PUT or
 * DELETE), the content-type timestamp and the metadata timestamp (a POST can move the latter
 * two). Each timestamp is in internal form.
 */
export interface ObjectRow extends BaseRow {
  readonly name: string;
  /** The data timestamp: the PUT or DELETE this row records. */
  readonly created_at: string;
  readonly size: number;
  readonly content_type: string;
  readonly etag: string;
  readonly deleted: 0 | 1;
  readonly storage_policy_index: number;
  readonly ctype_timestamp: string;
  /** The last-modified time listings show. */
  readonly meta_timestamp: string;
}

/** The content type a DELETE row carries (Swift's `delete_object`). */
export const DELETED_CONTENT_TYPE = 'application/deleted';
/** The etag a DELETE row carries. */
export const DELETED_ETAG = 'noetag';

/**
 * The row an object PUT makes (Swift's `put_object`): the content-type and metadata
 * timestamps default to the data timestamp. Timestamps in Swift's internal form.
 */
export function putObjectRow(put: { name: string; createdAt: string; size: number; contentType: string; etag: string; storagePolicyIndex: number; ctypeTimestamp?: string; metaTimestamp?: string }): ObjectRow {
  const ctype = put.ctypeTimestamp ?? put.createdAt;
  return {
    name: put.name,
    created_at: put.createdAt,
    size: put.size,
    content_type: put.contentType,
    etag: put.etag,
    deleted: 0,
    storage_policy_index: put.storagePolicyIndex,
    ctype_timestamp: ctype,
    meta_timestamp: put.metaTimestamp ?? ctype,
  };
}

/** The tombstone row an object DELETE makes (Swift's `delete_object`). */
export function deleteObjectRow(name: string, timestamp: string, storagePolicyIndex: number): ObjectRow {
  return { name, created_at: timestamp, size: 0, content_type: DELETED_CONTENT_TYPE, etag: DELETED_ETAG, deleted: 1, storage_policy_index: storagePolicyIndex, ctype_timestamp: timestamp, meta_timestamp: timestamp };
}

const TOKEN = String.raw`[^()<>@,;:\\"/\[\]?={}\x00-\x20\x7f]+`;
const PARAM = new RegExp(String.raw`(?:\s*;\s*(${TOKEN})\s*(?:=\s*(${TOKEN}|"(?:[^"\\]|\\.)*"))?)`, 'g');

/**
 * Swift's `extract_swift_bytes`: splits the `swift_bytes` parameter (a large object's real
 * size) off a content type; the other parameters are put back as `;key=value`.
 */
export function extractSwiftBytes(contentType: string): [contentType: string, swiftBytes: string | undefined] {
  const semi = contentType.indexOf(';');
  if (semi === -1) return [contentType, undefined];
  let base = contentType.slice(0, semi);
  let swiftBytes: string | undefined;
  for (const m of contentType.slice(semi).matchAll(PARAM)) {
    const key = (m[1] ?? '').trim();
    const value = (m[2] ?? '').trim();
    if (key === 'swift_bytes') swiftBytes = value;
    else base += `;${key}=${value}`;
  }
  return [base, swiftBytes];
}

/**
 * Swift's merge of an object row (`update_new_item_from_existing`): the data (size, etag,
 * deleted, swift_bytes), the content type and the metadata timestamp each come from whichever
 * row has the newer timestamp for them. Returns the row to store, or undefined when the
 * existing row is at least as new in all three.
 */
export function mergeObjectRow(existing: ObjectRow | undefined, incoming: ObjectRow): ObjectRow | undefined {
  if (!existing) return incoming;
  const [newType, newBytes] = extractSwiftBytes(incoming.content_type);
  const [oldType, oldBytes] = extractSwiftBytes(existing.content_type);
  const dataNewer = incoming.created_at > existing.created_at;
  const typeNewer = incoming.ctype_timestamp > existing.ctype_timestamp;
  const metaNewer = incoming.meta_timestamp > existing.meta_timestamp;
  if (!dataNewer && !typeNewer && !metaNewer) return undefined;
  const data = dataNewer ? incoming : existing;
  const swiftBytes = dataNewer ? newBytes : oldBytes;
  const type = typeNewer ? newType : oldType;
  return {
    name: incoming.name,
    created_at: data.created_at,
    size: data.size,
    etag: data.etag,
    deleted: data.deleted,
    storage_policy_index: incoming.storage_policy_index,
    content_type: swiftBytes ? `${type};swift_bytes=${swiftBytes}` : type,
    ctype_timestamp: typeNewer ? incoming.ctype_timestamp : existing.ctype_timestamp,
    meta_timestamp: metaNewer ? incoming.meta_timestamp : existing.meta_timestamp,
  };
}

function field<T>(raw: Record<string, unknown>, name: string, check: (v: unknown) => v is T): T {
  const value = raw[name];
  if (!check(value)) throw new ReplicationRequestError(`object row field ${name}: bad value ${JSON.stringify(value)}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function wireTimestamp(raw: Record<string, unknown>, name: string, fallback?: string): string {
  const value = raw[name];
  if ((value === undefined || value === null || value === '') && fallback !== undefined) return fallback;
  try {
    return Timestamp.parse(field(raw, name, isString)).internal;
  } catch {
    throw new ReplicationRequestError(`object row field ${name}: bad timestamp ${JSON.stringify(value)}`);
  }
}

/** How object rows are keyed, stored, counted and merged. */
export const OBJECT_ROW_SCHEMA: RowSchema<ObjectRow> = {
  statsWidth: 2,
  key: (row) => fixedHex(row.storage_policy_index, 8) + row.name,
  // The two later timestamps are usually the data timestamp: store them only when not.
  encode: (row) => [
    row.created_at,
    row.size,
    row.content_type,
    row.etag,
    row.ctype_timestamp === row.created_at ? null : row.ctype_timestamp,
    row.meta_timestamp === row.created_at ? null : row.meta_timestamp,
  ],
  decode: (rowKey, deleted, fields) => {
    const [createdAt, size, contentType, etag, ctype, meta] = fields as [string, number, string, string, string | null, string | null];
    return {
      name: rowKey.slice(8),
      created_at: createdAt,
      size,
      content_type: contentType,
      etag,
      deleted: deleted ? 1 : 0,
      storage_policy_index: Number.parseInt(rowKey.slice(0, 8), 16),
      ctype_timestamp: ctype ?? createdAt,
      meta_timestamp: meta ?? createdAt,
    };
  },
  // Swift's trigger: object_count += 1 - deleted, bytes_used += size.
  stats: (row) => [1 - row.deleted, row.size],
  identity: (row) => `${row.name}-${row.storage_policy_index}-${row.created_at}-${row.ctype_timestamp}-${row.meta_timestamp}`,
  reclaimTimestamp: (row) => row.created_at,
  merge: mergeObjectRow,
  fromWire: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplicationRequestError('an object row must be a map');
    const raw = value as Record<string, unknown>;
    const name = field(raw, 'name', isString);
    if (name === '' || !isValidUtf8Name(name, true) || !isWellFormedReserved(name)) throw new ReplicationRequestError(`bad object name ${JSON.stringify(name)}`);
    const createdAt = wireTimestamp(raw, 'created_at');
    const ctype = wireTimestamp(raw, 'ctype_timestamp', createdAt);
    const deleted = raw['deleted'];
    if (deleted !== 0 && deleted !== 1 && deleted !== true && deleted !== false) throw new ReplicationRequestError('object row field deleted must be 0 or 1');
    const rowId = raw['ROWID'];
    return {
      name,
      created_at: createdAt,
      size: field(raw, 'size', isCount),
      content_type: field(raw, 'content_type', isString),
      etag: field(raw, 'etag', isString),
      deleted: deleted === 1 || deleted === true ? 1 : 0,
      storage_policy_index: raw['storage_policy_index'] === undefined ? 0 : field(raw, 'storage_policy_index', isCount),
      ctype_timestamp: ctype,
      meta_timestamp: wireTimestamp(raw, 'meta_timestamp', ctype),
      ...(isCount(rowId) ? { ROWID: rowId } : {}),
    };
  },
};
