import type { Readable } from 'node:stream';
import { decodeIter } from 'msgpackr';
import type { ServerResponse } from '../http/server.ts';
import { Timestamp } from '../timestamp.ts';
import type { DatabaseBroker, DbRecord } from './broker.ts';
import { DB_HASH } from './db-keys.ts';
import { DatabaseNotFoundError, ReplicationRequestError } from './errors.ts';
import type { Metadata } from './metadata.ts';
import { encodeRecord, RECORD_CODEC_OPTIONS } from './record-codec.ts';
import type { DumpHeader, RemoteSyncInfo, SyncPoint } from './replication-info.ts';
import type { BaseRow } from './row-schema.ts';

/**
 * The database replication RPC, served by the account and container servers on
 * `REPLICATE /<device>/<partition>/<hash>` (Swift's `ReplicatorRpc`, with msgpack for JSON).
 *
 * The request body is msgpack: one array `[op, ...args]`; `load` streams more values after it.
 * Answers are msgpack (`Content-Type: application/x-msgpack`) or empty. A missing database is
 * 404, a malformed request 400, a missing or unmounted device 507.
 *
 * 1. `["sync", info]` — the sender's replication info `{max_row, hash, id, created_at,
 *    put_timestamp, delete_timestamp, metadata, [status_changed_at, count,
 *    storage_policy_index]}`. The receiver merges the metadata and timestamps (a container
 *    also settles a policy index conflict), and answers 200 with its own replication info plus
 *    `point`: its incoming sync point for the sender's id. When both hashes match, it first
 *    records the sender's `max_row` as that point: they hold the same rows.
 * 2. `["get_sync", remote_id, incoming=true]` → 200 `{sync_point}` (-1 when none).
 * 3. `["get_syncs", incoming=true]` → 200 `[{remote_id, sync_point}, ...]`.
 * 4. `["merge_syncs", [{remote_id, sync_point}, ...], incoming=true]` → 202; each point only
 *    moves up.
 * 5. `["rows_since", since, limit]` → 200 `{rows}`: up to `limit` (at most 10,000) rows with
 *    a sequence number (`ROWID`) above `since` (-1 for all), in sequence order.
 * 6. `["merge_items", rows, source_id?]` → 202: merges rows, newest wins (rows as
 *    `rows_since` returns them). With `source_id`, the incoming sync point for that remote
 *    moves up to the highest `ROWID` sent, so the sender must send rows in sequence order.
 * 7. `["load", header, source_id]` followed by any number of row arrays, to the end of the
 *    body: creates the database from another replica's dump (Swift's rsync then
 *    `complete_rsync`). `header` is `{record, metadata, max_row, incoming_sync,
 *    outgoing_sync}` as the sender's `dump()` yields it. 201 when loaded; 409 when the
 *    database already exists here (then use `merge_items`).
 *
 * A replicator pass for one database (issue 5): `sync`; on 404, `load`; when the answer's
 * hash equals ours or its `point` is at our `max_row`, done; otherwise `merge_items` pages of
 * our `getItemsSince(point)` with our id as source, then `merge_syncs` our incoming sync
 * points, and record the remote's id at our last row as an outgoing sync point.
 */

/** The most rows one `rows_since` answers. */
export const MAX_ROWS_PER_CALL = 10_000;

type AnyBroker = DatabaseBroker<BaseRow, DbRecord>;

const MSGPACK = { 'Content-Type': 'application/x-msgpack' } as const;

function ok(status: number, body?: unknown): ServerResponse {
  return body === undefined ? { status } : { status, headers: MSGPACK, body: encodeRecord(body) };
}

/**
 * Serves one REPLICATE request for the database `hash` of a device.
 * @throws {ReplicationRequestError} for a malformed body (400).
 * @throws {DatabaseNotFoundError} (404) and {DatabaseAlreadyExistsError} (409).
 */
export async function serveReplicate(body: Readable | AsyncIterable<Uint8Array>, broker: AnyBroker, partition: number): Promise<ServerResponse> {
  if (!DB_HASH.test(broker.hash)) throw new ReplicationRequestError(`invalid database hash ${JSON.stringify(broker.hash)}`);
  const values = decodeIter(body as AsyncIterable<Buffer>, RECORD_CODEC_OPTIONS)[Symbol.asyncIterator]();
  let first: IteratorResult<unknown>;
  try {
    first = await values.next();
  } catch (err) {
    throw new ReplicationRequestError('body is not msgpack', { cause: err });
  }
  const call = first.value;
  if (first.done || !Array.isArray(call) || typeof call[0] !== 'string') throw new ReplicationRequestError('the body must start with [op, ...args]');
  const [op, ...args] = call as [string, ...unknown[]];
  if (op !== 'load' && !(await broker.exists())) throw new DatabaseNotFoundError(broker.hash);
  switch (op) {
    case 'sync':
      return ok(200, await broker.handleSyncRequest(parseSyncInfo(args[0])));
    case 'get_sync':
      return ok(200, { sync_point: await broker.getSync(text(args[0], 'remote_id'), args[1] !== false) });
    case 'get_syncs':
      return ok(200, await broker.getSyncs(args[0] !== false));
    case 'merge_syncs':
      await broker.mergeSyncs(parseSyncPoints(args[0]), args[1] !== false);
      return ok(202);
    case 'rows_since': {
      const since = integer(args[0], 'since', -1);
      const limit = integer(args[1] ?? MAX_ROWS_PER_CALL, 'limit', 1);
      return ok(200, { rows: await broker.getItemsSince(since, Math.min(limit, MAX_ROWS_PER_CALL)) });
    }
    case 'merge_items': {
      if (!Array.isArray(args[0])) throw new ReplicationRequestError('merge_items needs an array of rows');
      await broker.mergeWireItems(args[0], args[1] === undefined || args[1] === null ? undefined : text(args[1], 'source_id'));
      return ok(202);
    }
    case 'load': {
      const header = parseDumpHeader(args[0]);
      const source = text(args[1], 'source_id');
      await broker.load(header, rowChunks(values), partition, source);
      return ok(201);
    }
    default:
      throw new ReplicationRequestError(`unknown replication op ${JSON.stringify(op)}`);
  }
}

async function* rowChunks(values: AsyncIterator<unknown>): AsyncGenerator<readonly unknown[]> {
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await values.next();
    } catch (err) {
      throw new ReplicationRequestError('load stream is not msgpack', { cause: err });
    }
    if (next.done) return;
    if (!Array.isArray(next.value)) throw new ReplicationRequestError('load stream values after the header must be arrays of rows');
    yield next.value;
  }
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ReplicationRequestError(`${name} must be a non-empty string`);
  return value;
}

function integer(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new ReplicationRequestError(`${name} must be an integer >= ${min}`);
  return value;
}

function timestamp(value: unknown, name: string): string {
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error('not a timestamp');
    return Timestamp.parse(value).internal;
  } catch {
    throw new ReplicationRequestError(`${name} must be a timestamp`);
  }
}

function map(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplicationRequestError(`${name} must be a map`);
  return value as Record<string, unknown>;
}

/** Metadata from the wire: `{name: [value, timestamp]}`. */
export function parseMetadata(value: unknown): Metadata {
  const out: Record<string, readonly [string, string]> = {};
  for (const [key, entry] of Object.entries(map(value ?? {}, 'metadata'))) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new ReplicationRequestError(`metadata ${JSON.stringify(key)} must be [value, timestamp]`);
    out[key] = [entry[0], timestamp(entry[1], `metadata ${key} timestamp`)];
  }
  return out;
}

function parseSyncInfo(value: unknown): RemoteSyncInfo {
  const raw = map(value, 'sync info');
  const hash = text(raw['hash'], 'hash');
  if (!/^[0-9a-f]{32}$/.test(hash)) throw new ReplicationRequestError('hash must be 32 hex digits');
  return {
    max_row: integer(raw['max_row'], 'max_row', -1),
    hash,
    id: text(raw['id'], 'id'),
    created_at: timestamp(raw['created_at'], 'created_at'),
    put_timestamp: timestamp(raw['put_timestamp'], 'put_timestamp'),
    delete_timestamp: timestamp(raw['delete_timestamp'], 'delete_timestamp'),
    metadata: parseMetadata(raw['metadata']),
    ...(raw['status_changed_at'] !== undefined ? { status_changed_at: timestamp(raw['status_changed_at'], 'status_changed_at') } : {}),
    ...(raw['count'] !== undefined ? { count: integer(raw['count'], 'count', 0) } : {}),
    ...(raw['storage_policy_index'] !== undefined ? { storage_policy_index: integer(raw['storage_policy_index'], 'storage_policy_index', 0) } : {}),
  };
}

function parseSyncPoints(value: unknown): SyncPoint[] {
  if (!Array.isArray(value)) throw new ReplicationRequestError('sync points must be an array');
  return value.map((p) => {
    const raw = map(p, 'sync point');
    return { remote_id: text(raw['remote_id'], 'remote_id'), sync_point: integer(raw['sync_point'], 'sync_point', -1) };
  });
}

function parseDumpHeader(value: unknown): DumpHeader {
  const raw = map(value, 'load header');
  return {
    record: map(raw['record'], 'record'),
    metadata: parseMetadata(raw['metadata']),
    max_row: integer(raw['max_row'], 'max_row', -1),
    incoming_sync: parseSyncPoints(raw['incoming_sync'] ?? []),
    outgoing_sync: parseSyncPoints(raw['outgoing_sync'] ?? []),
  };
}
