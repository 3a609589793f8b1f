import { Timestamp } from '../../common/timestamp.ts';
import { DiskFileExpired } from './errors.ts';
import type { Metadata, ObjectState } from './types.ts';

/**
 * Which files in an object's hash directory count (Swift's `_process_ondisk_files` for a
 * replicated policy), shared by both DiskFile implementations:
 * - the newest `.data` or `.ts` wins (on a tie the tombstone, as Swift sorts them);
 * - the newest `.meta` newer than a winning `.data` applies to it;
 * - everything else is obsolete and removed when the directory is next written or hashed.
 */
export type FileKind = 'data' | 'ts' | 'meta';

export interface OnDiskFile {
  readonly name: string;
  readonly timestamp: Timestamp;
  readonly kind: FileKind;
}

const KIND_ORDER: Record<FileKind, number> = { ts: 0, meta: 1, data: 2 };

export function fileName(timestamp: Timestamp, kind: FileKind): string {
  return `${timestamp.internal}.${kind}`;
}

/** `1700000000.12345.data` → its parts; undefined for anything else (temp files, junk). */
export function parseFileName(name: string): OnDiskFile | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const kind = name.slice(dot + 1);
  if (kind !== 'data' && kind !== 'ts' && kind !== 'meta') return undefined;
  try {
    return { name, timestamp: Timestamp.parse(name.slice(0, dot)), kind };
  } catch {
    return undefined;
  }
}

export interface Selection {
  readonly data?: OnDiskFile;
  readonly tombstone?: OnDiskFile;
  readonly meta?: OnDiskFile;
  readonly obsolete: readonly OnDiskFile[];
}

/** A name listed twice (a file in its directory and in the database alike) is one file, never obsolete against itself. */
export function selectFiles(names: readonly string[]): Selection {
  const files = [...new Set(names)].map(parseFileName).filter((f): f is OnDiskFile => f !== undefined);
  files.sort((a, b) => b.timestamp.compare(a.timestamp) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  let data: OnDiskFile | undefined;
  let tombstone: OnDiskFile | undefined;
  let meta: OnDiskFile | undefined;
  const obsolete: OnDiskFile[] = [];
  const metas: OnDiskFile[] = [];
  for (const f of files) {
    if (data || tombstone) {
      obsolete.push(f);
    } else if (f.kind === 'meta') {
      metas.push(f);
    } else if (f.kind === 'data') {
      data = f;
    } else {
      tombstone = f;
    }
  }
  if (data && metas.length > 0) {
    meta = metas[0];
    obsolete.push(...metas.slice(1));
  } else {
    obsolete.push(...metas); // a .meta with no data (or newer than a tombstone) is of no use
  }
  return { ...(data ? { data } : {}), ...(tombstone ? { tombstone } : {}), ...(meta ? { meta } : {}), obsolete };
}

/** Data-file keys a POST can never change (Swift: RESERVED_DATAFILE_META, DATAFILE_SYSTEM_META, sysmeta). */
function keptFromData(key: string): boolean {
  const k = key.toLowerCase();
  return k === 'name' || k === 'content-length' || k === 'etag' || k === 'deleted' || k === 'x-static-large-object' || k.startsWith('x-object-sysmeta-');
}

/**
 * Metadata of a data file with a newer `.meta` applied (Swift's fast-POST): the `.meta`
 * replaces user metadata and the other POST-able headers; size, ETag, name and sysmeta stay;
 * Content-Type stays the data file's unless the POST set a newer one.
 */
export function mergeMetadata(dataMeta: Metadata, dataTimestamp: Timestamp, metaMeta: Metadata | undefined): Record<string, string> {
  if (!metaMeta) return { ...dataMeta };
  const merged: Record<string, string> = { ...metaMeta };
  for (const [k, v] of Object.entries(dataMeta)) if (keptFromData(k)) merged[k] = v;
  const ctypeTs = metaMeta['Content-Type-Timestamp'];
  if (dataMeta['Content-Type'] !== undefined && (ctypeTs === undefined || dataTimestamp.isNewerThan(Timestamp.parse(ctypeTs)))) {
    merged['Content-Type'] = dataMeta['Content-Type'];
    delete merged['Content-Type-Timestamp'];
  }
  return merged;
}

/** Whether an object's `X-Delete-At` (seconds) has passed at `nowMs`. */
export function isExpired(metadata: Metadata, nowMs: number): boolean {
  const at = metadata['X-Delete-At'];
  return at !== undefined && at !== '' && Number(at) * 1000 <= nowMs;
}

/**
 * An object's state from its data file and optional `.meta` file.
 * @throws {DiskFileExpired} when past `X-Delete-At` at `nowMs`, unless `openExpired`.
 */
export function objectState(
  data: { metadata: Metadata; timestamp: Timestamp; contentLength: number },
  meta: { metadata: Metadata; timestamp: Timestamp } | undefined,
  nowMs: number,
  openExpired = false,
): ObjectState {
  let metaFileMetadata: Metadata | undefined;
  if (meta) {
    const { name: _, ...rest } = meta.metadata;
    metaFileMetadata = rest;
  }
  const metadata = mergeMetadata(data.metadata, data.timestamp, metaFileMetadata);
  const timestamp = meta?.timestamp ?? data.timestamp;
  const ctype = metadata['Content-Type-Timestamp'];
  const state: ObjectState = {
    metadata,
    dataTimestamp: data.timestamp,
    timestamp,
    contentTypeTimestamp: ctype === undefined ? data.timestamp : Timestamp.parse(ctype),
    metaFileMetadata,
    dataFileMetadata: data.metadata,
    contentLength: data.contentLength,
  };
  if (!openExpired && isExpired(metadata, nowMs)) throw new DiskFileExpired(timestamp, metadata);
  return state;
}

/** The replication view of a hash directory's files (undefined when nothing is current). */
export function entryOf(names: readonly string[]): { dataTimestamp?: Timestamp; tombstoneTimestamp?: Timestamp; metaTimestamp?: Timestamp } | undefined {
  const selection = selectFiles(names);
  if (!selection.data && !selection.tombstone) return undefined;
  return {
    ...(selection.data ? { dataTimestamp: selection.data.timestamp } : {}),
    ...(selection.tombstone ? { tombstoneTimestamp: selection.tombstone.timestamp } : {}),
    ...(selection.meta ? { metaTimestamp: selection.meta.timestamp } : {}),
  };
}

/** Whether two replication views of an object name the same files. */
export function sameEntry(a: { dataTimestamp?: Timestamp; tombstoneTimestamp?: Timestamp; metaTimestamp?: Timestamp } | undefined, b: { dataTimestamp?: Timestamp; tombstoneTimestamp?: Timestamp; metaTimestamp?: Timestamp }): boolean {
  const same = (x: Timestamp | undefined, y: Timestamp | undefined): boolean => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return a !== undefined && same(a.dataTimestamp, b.dataTimestamp) && same(a.tombstoneTimestamp, b.tombstoneTimestamp) && same(a.metaTimestamp, b.metaTimestamp);
}
