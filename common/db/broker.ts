import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { Timestamp } from '../timestamp.ts';
import { DbKeys, partitionKey } from './db-keys.ts';
import { prefixEnd } from './key-order.ts';
import { DatabaseAlreadyExistsError, DatabaseNotFoundError } from './errors.ts';
import type { KvOp, OrderedKv } from './kv.ts';
import { checkMetadataTotals, clearMetadata, type Metadata, mergeMetadata, reclaimMetadata } from './metadata.ts';
import { type DbStats, EMPTY_STATS, StatsAccumulator } from './db-stats.ts';
import { decodeRecord, encodeRecord } from './record-codec.ts';
import { type BaseRow, type RowSchema, stripRowId, type WireRow } from './row-schema.ts';
import type { DumpHeader, RemoteSyncInfo, ReplicationInfo, SyncPoint } from './replication-info.ts';
import type { WriteQueue } from './write-queue.ts';

/** The fields every database keeps (Swift's `<type>_stat` row). Timestamps are internal form. */
export interface DbRecord {
  readonly account: string;
  readonly created_at: string;
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly status_changed_at: string;
  /** `DELETED` once the database was deleted (accounts use it). */
  readonly status: string;
  /** Unique id of this replica, for sync points. */
  readonly id: string;
  /** The partition the database lives in on this device. */
  readonly partition: number;
}

/** The handles a broker works with; one set per device database. */
export interface BrokerContext {
  readonly kv: OrderedKv;
  readonly queue: WriteQueue;
  readonly clock: Clock;
}

/** A database's record, stats and metadata, as one read saw them. */
export interface DbState<Rec> {
  readonly record: Rec;
  readonly stats: DbStats;
  readonly metadata: Metadata;
}

const PAGE = 1000;

/**
 * Reads of one commit up to this many go through `getSync` (a container update's batch of up to
 * 31 rows reads 64 keys); more (replication's merges of thousands) go to the thread pool, which
 * keeps a long read off the event loop.
 */
const SYNC_READS = 64;

/**
 * The shared part of the account and container brokers (Swift's `DatabaseBroker`): one
 * database, named by its hash, inside a device's `OrderedKv`. It keeps the info record,
 * metadata, rows (live and deleted), the row sequence, sync points and counts, and changes
 * them only under the database's turn in the `WriteQueue`, so counts stay exact. A broker
 * object is a cheap handle: make one per request.
 */
export abstract class DatabaseBroker<Row extends BaseRow, Rec extends DbRecord> {
  readonly hash: string;
  protected readonly keys: DbKeys;
  protected readonly ctx: BrokerContext;
  protected readonly schema: RowSchema<Row>;

  constructor(hash: string, ctx: BrokerContext, schema: RowSchema<Row>) {
    this.hash = hash;
    this.keys = new DbKeys(hash);
    this.ctx = ctx;
    this.schema = schema;
  }

  /** Live rows that make the database non-empty (objects, or containers). */
  protected abstract countOf(record: Rec, stats: DbStats): number;
  /** Swift's `_is_deleted_info`. */
  protected abstract isDeletedState(record: Rec, stats: DbStats): boolean;
  /** The record of a replica just made from a dump (Swift's `newid` + `_newid`). */
  protected abstract freshReplicaRecord(dumped: Readonly<Record<string, unknown>>, id: string, partition: number): Rec;

  /** Now, as an internal timestamp. */
  protected now(): string {
    return Timestamp.fromMillis(this.ctx.clock.now()).internal;
  }

  /** Whether the database exists on this device (it may be deleted, as Swift's file can be). */
  async exists(): Promise<boolean> {
    return (await this.ctx.kv.get(this.keys.info)) !== undefined;
  }

  /** The record, stats and metadata read together, or undefined when there is no database. */
  async state(): Promise<DbState<Rec> | undefined> {
    const [rec, stats, meta] = await this.ctx.kv.getMany([this.keys.info, this.keys.stats, this.keys.metadata]);
    if (rec === undefined) return undefined;
    return {
      record: decodeRecord(rec) as Rec,
      stats: stats === undefined ? EMPTY_STATS : (decodeRecord(stats) as DbStats),
      metadata: meta === undefined ? {} : (decodeRecord(meta) as Metadata),
    };
  }

  /** @throws {DatabaseNotFoundError} */
  protected async requireState(): Promise<DbState<Rec>> {
    const state = await this.state();
    if (!state) throw new DatabaseNotFoundError(this.hash);
    return state;
  }

  /** Swift's `is_deleted`: true also when there is no database. */
  async isDeleted(): Promise<boolean> {
    const state = await this.state();
    return state === undefined || this.isDeletedState(state.record, state.stats);
  }

  /** True when no live rows count (Swift's `empty`). @throws {DatabaseNotFoundError} */
  async empty(): Promise<boolean> {
    const { record, stats } = await this.requireState();
    return this.countOf(record, stats) === 0;
  }

  /** The metadata, with cleared keys (`''`) still in it; `{}` when there is no database. */
  async metadata(): Promise<Metadata> {
    const bytes = await this.ctx.kv.get(this.keys.metadata);
    return bytes === undefined ? {} : (decodeRecord(bytes) as Metadata);
  }

  /**
   * Creates the database with its first record and metadata.
   * @throws {DatabaseAlreadyExistsError}
   */
  protected async create(record: Rec, metadata: Metadata = {}): Promise<void> {
    await this.ctx.queue.exclusive(this.hash, async () => {
      if (await this.exists()) throw new DatabaseAlreadyExistsError(this.hash);
      // Anything left under the hash (an aborted load) is not part of this database.
      await this.ctx.kv.clear(this.keys.all);
      await this.ctx.kv.batch([
        { type: 'put', key: this.keys.info, value: encodeRecord(record) },
        { type: 'put', key: this.keys.stats, value: encodeRecord(EMPTY_STATS) },
        { type: 'put', key: this.keys.metadata, value: encodeRecord(metadata) },
        { type: 'put', key: partitionKey(record.partition, this.hash), value: new Uint8Array(0) },
      ]);
    });
  }

  /**
   * Changes the record under the database's turn. `change` returns the new record, or
   * undefined to leave it; metadata it returns replaces the stored metadata.
   */
  protected async updateRecord(change: (state: DbState<Rec>) => { record?: Rec; metadata?: Metadata } | undefined): Promise<DbState<Rec>> {
    return this.ctx.queue.exclusive(this.hash, async () => {
      const state = await this.requireState();
      const next = change(state);
      const ops: KvOp[] = [];
      if (next?.record) {
        ops.push({ type: 'put', key: this.keys.info, value: encodeRecord(next.record) });
        if (next.record.partition !== state.record.partition) {
          ops.push({ type: 'del', key: partitionKey(state.record.partition, this.hash) });
          ops.push({ type: 'put', key: partitionKey(next.record.partition, this.hash), value: new Uint8Array(0) });
        }
      }
      if (next?.metadata) ops.push({ type: 'put', key: this.keys.metadata, value: encodeRecord(next.metadata) });
      await this.ctx.kv.batch(ops);
      return { record: next?.record ?? state.record, stats: state.stats, metadata: next?.metadata ?? state.metadata };
    });
  }

  /** Raises `put_timestamp` to `timestamp` if that is newer. */
  async updatePutTimestamp(timestamp: string): Promise<DbState<Rec>> {
    return this.updateRecord(({ record }) => (timestamp > record.put_timestamp ? { record: { ...record, put_timestamp: timestamp } } : undefined));
  }

  /** Raises `status_changed_at` to `timestamp` if that is newer. */
  async updateStatusChangedAt(timestamp: string): Promise<DbState<Rec>> {
    return this.updateRecord(({ record }) => (timestamp > record.status_changed_at ? { record: { ...record, status_changed_at: timestamp } } : undefined));
  }

  /** Moves the database to another partition (the ring changed). */
  async setPartition(partition: number): Promise<void> {
    await this.updateRecord(({ record }) => (record.partition === partition ? undefined : { record: { ...record, partition } }));
  }

  /**
   * Replication's merge of timestamps: the oldest created_at, the newest put and delete
   * timestamps; status_changed_at moves to now when that flips the deleted state.
   */
  async mergeTimestamps(createdAt: string, putTimestamp: string, deleteTimestamp: string): Promise<void> {
    await this.updateRecord(({ record, stats }) => {
      const merged: Rec = {
        ...record,
        created_at: createdAt < record.created_at ? createdAt : record.created_at,
        put_timestamp: putTimestamp > record.put_timestamp ? putTimestamp : record.put_timestamp,
        delete_timestamp: deleteTimestamp > record.delete_timestamp ? deleteTimestamp : record.delete_timestamp,
      };
      const flipped = this.isDeletedState(record, stats) !== this.isDeletedState(merged, stats);
      return { record: flipped ? { ...merged, status_changed_at: this.now() } : merged };
    });
  }

  /**
   * Marks the database deleted at `timestamp` (Swift's `delete_db`): every metadata key is
   * cleared, and delete_timestamp, status and status_changed_at are set unless a newer delete
   * is already recorded.
   */
  async deleteDb(timestamp: string): Promise<DbState<Rec>> {
    return this.updateRecord(({ record, metadata }) => {
      const cleared = mergeMetadata(metadata, clearMetadata(metadata, timestamp));
      const newer = timestamp > record.delete_timestamp;
      return {
        record: newer ? { ...record, delete_timestamp: timestamp, status: 'DELETED', status_changed_at: timestamp } : undefined,
        metadata: cleared,
      };
    });
  }

  /**
   * Merges metadata, newest timestamp per key. With `validate`, refuses (changing nothing)
   * when the merged whole would break the metadata limits.
   * @throws {ConstraintError} `bad_request`
   */
  async updateMetadata(updates: Metadata, validate = false): Promise<void> {
    await this.updateRecord(({ metadata }) => {
      const merged = mergeMetadata(metadata, updates);
      if (merged && validate) checkMetadataTotals(merged);
      return merged ? { metadata: merged } : undefined;
    });
  }

  /** What would `updateMetadata(updates, true)` refuse? Throws the same error, stores nothing. */
  async checkMetadataUpdate(updates: Metadata): Promise<void> {
    const merged = mergeMetadata(await this.metadata(), updates);
    if (merged) checkMetadataTotals(merged);
  }

  /** Queues one row for the next group commit; resolves once it is written. */
  protected putRow(row: Row): Promise<void> {
    return this.ctx.queue.enqueue(this.hash, row, (rows) => this.commitRows(rows));
  }

  /**
   * Merges rows (newest wins, per the schema's rule). With `source`, also raises the incoming
   * sync point of that remote database to the highest `ROWID` among the rows, as replication
   * sends rows in order.
   * @throws {DatabaseNotFoundError}
   */
  async mergeItems(rows: readonly (Row & { readonly ROWID?: number })[], source?: string): Promise<void> {
    if (source === undefined) {
      if (rows.length > 0) await this.ctx.queue.exclusive(this.hash, () => this.commitRows(rows));
      return;
    }
    let point = -1;
    for (const row of rows) if (row.ROWID !== undefined && row.ROWID > point) point = row.ROWID;
    await this.ctx.queue.exclusive(this.hash, () => this.commitRows(rows, point >= 0 ? { remoteId: source, point } : undefined));
  }

  /** Merges rows received for replication, each checked first. @throws {ReplicationRequestError} */
  async mergeWireItems(raw: readonly unknown[], source?: string): Promise<void> {
    await this.mergeItems(raw.map((r) => this.schema.fromWire(r)), source);
  }

  /** One read and one atomic batch for any number of rows: rows, sequence, stats, hash. */
  private async commitRows(rows: readonly Row[], sync?: { remoteId: string; point: number }): Promise<void> {
    const { kv } = this.ctx;
    const rowKeys = [...new Set(rows.map((r) => this.schema.key(r)))];
    const reads = [this.keys.info, this.keys.stats];
    for (const k of rowKeys) reads.push(this.keys.row(k, false), this.keys.row(k, true));
    if (sync) reads.push(this.keys.sync(sync.remoteId, true));
    // A few keys are read on the event loop: a trip to the thread pool costs more CPU than the
    // reads, and under synced writes its four threads can all be in a flush for tens of ms.
    const values = reads.length <= SYNC_READS ? reads.map((k) => kv.getSync(k)) : await kv.getMany(reads);
    if (values[0] === undefined) throw new DatabaseNotFoundError(this.hash);
    const stats = values[1] === undefined ? EMPTY_STATS : (decodeRecord(values[1]) as DbStats);
    const current = new Map<string, { row: Row; seq: number } | undefined>();
    rowKeys.forEach((k, i) => {
      const live = values[2 + 2 * i];
      const tomb = values[3 + 2 * i];
      current.set(k, live !== undefined ? this.decodeStored(k, false, live) : tomb !== undefined ? this.decodeStored(k, true, tomb) : undefined);
    });
    const ops: KvOp[] = [];
    const acc = new StatsAccumulator(stats, this.schema.statsWidth);
    for (const incoming of rows) {
      const k = this.schema.key(incoming);
      const existing = current.get(k);
      const merged = this.schema.merge(existing?.row, stripRowId(incoming));
      if (merged === undefined) continue;
      if (existing) {
        ops.push({ type: 'del', key: this.keys.row(k, existing.row.deleted === 1) }, { type: 'del', key: this.keys.seq(existing.seq) });
        acc.remove(this.schema, existing.row);
      }
      const seq = acc.nextSeq();
      ops.push(
        { type: 'put', key: this.keys.row(k, merged.deleted === 1), value: this.encodeStored(merged, seq) },
        { type: 'put', key: this.keys.seq(seq), value: encodeRecord([k, merged.deleted]) },
      );
      acc.add(this.schema, merged);
      current.set(k, { row: merged, seq });
    }
    if (acc.changed) ops.push({ type: 'put', key: this.keys.stats, value: encodeRecord(acc.result()) });
    if (sync) {
      const old = values.at(-1);
      const oldPoint = old === undefined ? -1 : ((decodeRecord(old) as [number, string])[0] ?? -1);
      if (sync.point > oldPoint) ops.push({ type: 'put', key: this.keys.sync(sync.remoteId, true), value: encodeRecord([sync.point, this.now()]) });
    }
    await kv.batch(ops);
  }

  protected encodeStored(row: Row, seq: number): Uint8Array {
    return encodeRecord([seq, ...this.schema.encode(row)]);
  }

  protected decodeStored(rowKey: string, deleted: boolean, bytes: Uint8Array): { row: Row; seq: number } {
    const [seq, ...fields] = decodeRecord(bytes) as [number, ...unknown[]];
    return { row: this.schema.decode(rowKey, deleted, fields), seq };
  }

  /** Rows with a sequence above `since`, in sequence order, at most `limit` (Swift's `get_items_since`). */
  async getItemsSince(since: number, limit: number): Promise<WireRow<Row>[]> {
    const range = since < 0 ? { gte: this.keys.seqBase } : { gt: this.keys.seq(since) };
    const iterator = this.ctx.kv.iterator({ ...range, lt: prefixEnd(this.keys.seqBase) });
    try {
      const out: WireRow<Row>[] = [];
      while (out.length < limit) {
        const pointers = await iterator.nextv(limit - out.length);
        if (pointers.length === 0) break;
        const targets = pointers.map(([key, value]) => {
          const [rowKey, deleted] = decodeRecord(value) as [string, 0 | 1];
          return { seq: Number.parseInt(key.slice(this.keys.seqBase.length), 16), rowKey, deleted: deleted === 1 };
        });
        const rows = await this.ctx.kv.getMany(targets.map((t) => this.keys.row(t.rowKey, t.deleted)));
        targets.forEach((t, i) => {
          const bytes = rows[i];
          if (bytes === undefined) return; // replaced since: it comes back later with a new sequence
          const stored = this.decodeStored(t.rowKey, t.deleted, bytes);
          if (stored.seq === t.seq) out.push({ ...stored.row, ROWID: t.seq });
        });
      }
      return out;
    } finally {
      await iterator.close();
    }
  }

  /** The sync point recorded for a remote database; -1 when none. */
  async getSync(remoteId: string, incoming = true): Promise<number> {
    const bytes = await this.ctx.kv.get(this.keys.sync(remoteId, incoming));
    return bytes === undefined ? -1 : ((decodeRecord(bytes) as [number, string])[0] ?? -1);
  }

  /** Every incoming (or outgoing) sync point. */
  async getSyncs(incoming = true): Promise<SyncPoint[]> {
    const base = `${this.keys.syncBase}${incoming ? 'i' : 'o'}`;
    const it = this.ctx.kv.iterator({ gte: base, lt: prefixEnd(base) });
    try {
      const out: SyncPoint[] = [];
      for (let batch = await it.nextv(PAGE); batch.length > 0; batch = await it.nextv(PAGE)) {
        for (const [key, value] of batch) out.push({ remote_id: key.slice(base.length), sync_point: (decodeRecord(value) as [number, string])[0] });
      }
      return out;
    } finally {
      await it.close();
    }
  }

  /** Records sync points, keeping the higher of old and new for each remote. */
  async mergeSyncs(points: readonly SyncPoint[], incoming = true): Promise<void> {
    await this.ctx.queue.exclusive(this.hash, async () => {
      if (!(await this.exists())) throw new DatabaseNotFoundError(this.hash);
      const keys = points.map((p) => this.keys.sync(p.remote_id, incoming));
      const olds = await this.ctx.kv.getMany(keys);
      const now = this.now();
      const best = new Map<string, number>();
      points.forEach((p, i) => {
        const old = olds[i];
        const oldPoint = old === undefined ? -1 : (decodeRecord(old) as [number, string])[0];
        best.set(keys[i] as string, Math.max(best.get(keys[i] as string) ?? -1, oldPoint, p.sync_point));
      });
      await this.ctx.kv.batch([...best].map(([key, point]) => ({ type: 'put' as const, key, value: encodeRecord([point, now]) })));
    });
  }

  /** What the replicator compares (Swift's `get_replication_info`). @throws {DatabaseNotFoundError} */
  async getReplicationInfo(): Promise<ReplicationInfo> {
    const { record, stats, metadata } = await this.requireState();
    return {
      hash: stats.hash,
      id: record.id,
      created_at: record.created_at,
      put_timestamp: record.put_timestamp,
      delete_timestamp: record.delete_timestamp,
      status_changed_at: record.status_changed_at,
      count: this.countOf(record, stats),
      max_row: stats.max_row,
      metadata,
      ...this.replicationExtras(record),
    };
  }

  /** Type-specific fields of the replication info. */
  protected replicationExtras(_record: Rec): Partial<ReplicationInfo> {
    return {};
  }

  /**
   * The receiving side of replication's `sync` (Swift's `_handle_sync_request`): merges the
   * remote's metadata and timestamps into this replica, and when both hold the same rows,
   * records that this replica has everything up to the remote's `max_row`.
   * @returns this replica's info before the merge, with `point`: the incoming sync point for
   * the remote, where the sender should start sending rows.
   * @throws {DatabaseNotFoundError}
   */
  async handleSyncRequest(remote: RemoteSyncInfo): Promise<ReplicationInfo & { readonly point: number }> {
    await this.beforeSyncRequest(remote);
    const info = await this.getReplicationInfo();
    if (Object.keys(remote.metadata).length > 0) await this.updateMetadata(remote.metadata);
    if (info.created_at !== remote.created_at || info.put_timestamp !== remote.put_timestamp || info.delete_timestamp !== remote.delete_timestamp) {
      await this.mergeTimestamps(remote.created_at, remote.put_timestamp, remote.delete_timestamp);
    }
    let point = await this.getSync(remote.id);
    if (remote.hash === info.hash && point < remote.max_row) {
      await this.mergeSyncs([{ remote_id: remote.id, sync_point: remote.max_row }]);
      point = remote.max_row;
    }
    return { ...info, point };
  }

  /** A hook for the container broker's policy index reconciliation. */
  protected async beforeSyncRequest(_remote: RemoteSyncInfo): Promise<void> {}

  /**
   * Purges deleted rows older than `reclaimAgeSeconds` before `now`, metadata keys cleared
   * that long ago, and sync points not updated for that long (Swift's `reclaim`). Runs in
   * pages, each its own turn, so writes keep flowing meanwhile.
   */
  async reclaim(now: Timestamp, reclaimAgeSeconds: number): Promise<{ rows: number }> {
    const age = Timestamp.fromMillis(Math.max(0, now.seconds - reclaimAgeSeconds) * 1000).internal;
    let purged = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.ctx.queue.exclusive(this.hash, async () => {
        const state = await this.state();
        if (!state) return { done: true, last: undefined };
        const it = this.ctx.kv.iterator(after === undefined ? { gte: this.keys.tombBase, lt: prefixEnd(this.keys.tombBase) } : { gt: after, lt: prefixEnd(this.keys.tombBase) });
        const entries = await it.nextv(PAGE).finally(() => it.close());
        const acc = new StatsAccumulator(state.stats, this.schema.statsWidth);
        const ops: KvOp[] = [];
        for (const [key, value] of entries) {
          const stored = this.decodeStored(key.slice(this.keys.tombBase.length), true, value);
          if (this.schema.reclaimTimestamp(stored.row) >= age) continue;
          ops.push({ type: 'del', key }, { type: 'del', key: this.keys.seq(stored.seq) });
          acc.remove(this.schema, stored.row);
          purged += 1;
        }
        if (acc.changed) ops.push({ type: 'put', key: this.keys.stats, value: encodeRecord(acc.result()) });
        await this.ctx.kv.batch(ops);
        return { done: entries.length < PAGE, last: entries.at(-1)?.[0] };
      });
      after = page.last;
      if (page.done) break;
    }
    await this.updateRecord(({ metadata }) => {
      const kept = reclaimMetadata(metadata, age);
      return kept ? { metadata: kept } : undefined;
    }).catch((err: unknown) => {
      if (!(err instanceof DatabaseNotFoundError)) throw err;
    });
    await this.reclaimSyncs(age);
    return { rows: purged };
  }

  private async reclaimSyncs(age: string): Promise<void> {
    await this.ctx.queue.exclusive(this.hash, async () => {
      const it = this.ctx.kv.iterator({ gte: this.keys.syncBase, lt: prefixEnd(this.keys.syncBase) });
      const ops: KvOp[] = [];
      try {
        for (let batch = await it.nextv(PAGE); batch.length > 0; batch = await it.nextv(PAGE)) {
          for (const [key, value] of batch) {
            if ((decodeRecord(value) as [number, string])[1] < age) ops.push({ type: 'del', key });
          }
        }
      } finally {
        await it.close();
      }
      await this.ctx.kv.batch(ops);
    });
  }

  /**
   * Swift's `is_reclaimable`: empty, and deleted longer than the reclaim age ago (and after
   * its last put), so the replicator may drop the whole database.
   */
  async isReclaimable(now: Timestamp, reclaimAgeSeconds: number): Promise<boolean> {
    const state = await this.state();
    if (!state) return false;
    const age = Timestamp.fromMillis(Math.max(0, now.seconds - reclaimAgeSeconds) * 1000).internal;
    const { record, stats } = state;
    return this.countOf(record, stats) === 0 && age > record.delete_timestamp && record.delete_timestamp > record.put_timestamp;
  }

  /** Removes the whole database: record, rows, sequence, sync points, partition entry. */
  async destroy(): Promise<void> {
    await this.destroyIf(() => true);
  }

  /**
   * Removes the database only if `unchanged` holds for its state, checked and removed in one
   * turn of its write queue, so no write lands in between (a handoff removed after replication
   * must not lose a row written meanwhile). Resolves whether it was removed.
   */
  async destroyIf(unchanged: (state: DbState<Rec> | undefined) => boolean): Promise<boolean> {
    return this.ctx.queue.exclusive(this.hash, async () => {
      const state = await this.state();
      if (!unchanged(state)) return false;
      await this.ctx.kv.clear(this.keys.all);
      if (state) await this.ctx.kv.batch([{ type: 'del', key: partitionKey(state.record.partition, this.hash) }]);
      return true;
    });
  }

  /**
   * The whole database for a replica that has none (Swift rsyncs the file): a header, then
   * rows in chunks, live rows first. Rows keep their sequence numbers.
   * @throws {DatabaseNotFoundError}
   */
  async *dump(chunkSize = PAGE): AsyncGenerator<DumpHeader | WireRow<Row>[]> {
    const { record, stats, metadata } = await this.requireState();
    const [incoming, outgoing] = await Promise.all([this.getSyncs(true), this.getSyncs(false)]);
    yield { record: { ...record } as Readonly<Record<string, unknown>>, metadata, max_row: stats.max_row, incoming_sync: incoming, outgoing_sync: outgoing };
    for (const deleted of [false, true]) {
      const base = deleted ? this.keys.tombBase : this.keys.liveBase;
      const it = this.ctx.kv.iterator({ gte: base, lt: prefixEnd(base) });
      try {
        for (let batch = await it.nextv(chunkSize); batch.length > 0; batch = await it.nextv(chunkSize)) {
          yield batch.map(([key, value]) => {
            const stored = this.decodeStored(key.slice(base.length), deleted, value);
            return { ...stored.row, ROWID: stored.seq };
          });
        }
      } finally {
        await it.close();
      }
    }
  }

  /**
   * Creates this database from another replica's dump (Swift's `complete_rsync`): the rows
   * keep their sequence numbers, the replica gets a new id, and the incoming sync point for
   * `sourceId` is set to the header's `max_row`, so the next replication pass starts after it.
   * A dump read while its database changed may hold a row twice (live, then deleted) and rows
   * newer than its header: the newer version of a row wins, and rows past the header's
   * `max_row` come again in the next pass (merging is idempotent), so none is skipped.
   * Nothing is visible until the whole dump is in; a failed load leaves nothing.
   * @throws {DatabaseAlreadyExistsError}
   */
  async load(header: DumpHeader, chunks: AsyncIterable<readonly unknown[]>, partition: number, sourceId: string): Promise<void> {
    await this.ctx.queue.exclusive(this.hash, async () => {
      if (await this.exists()) throw new DatabaseAlreadyExistsError(this.hash);
      const { kv } = this.ctx;
      const record = this.freshReplicaRecord(header.record, randomUUID(), partition);
      await kv.clear(this.keys.all);
      try {
        const acc = new StatsAccumulator(EMPTY_STATS, this.schema.statsWidth);
        acc.raiseSeq(header.max_row);
        for await (const chunk of chunks) {
          const rows = chunk.map((raw) => this.schema.fromWire(raw));
          const rowKeys = [...new Set(rows.map((r) => this.schema.key(stripRowId(r))))];
          const found = await kv.getMany(rowKeys.flatMap((k) => [this.keys.row(k, false), this.keys.row(k, true)]));
          const loaded = new Map<string, { row: Row; seq: number } | undefined>();
          rowKeys.forEach((k, i) => {
            const live = found[2 * i];
            const tomb = found[2 * i + 1];
            loaded.set(k, live !== undefined ? this.decodeStored(k, false, live) : tomb !== undefined ? this.decodeStored(k, true, tomb) : undefined);
          });
          const ops: KvOp[] = [];
          for (const row of rows) {
            let seq = row.ROWID ?? acc.nextSeq();
            acc.raiseSeq(seq);
            let clean = stripRowId(row);
            const k = this.schema.key(clean);
            const earlier = loaded.get(k);
            if (earlier) {
              const merged = this.schema.merge(earlier.row, clean);
              if (merged === undefined) continue;
              ops.push({ type: 'del', key: this.keys.row(k, earlier.row.deleted === 1) }, { type: 'del', key: this.keys.seq(earlier.seq) });
              acc.remove(this.schema, earlier.row);
              clean = merged;
              seq = Math.max(seq, earlier.seq);
            }
            ops.push(
              { type: 'put', key: this.keys.row(k, clean.deleted === 1), value: this.encodeStored(clean, seq) },
              { type: 'put', key: this.keys.seq(seq), value: encodeRecord([k, clean.deleted]) },
            );
            acc.add(this.schema, clean);
            loaded.set(k, { row: clean, seq });
          }
          await kv.batch(ops);
        }
        const stats = acc.result();
        const now = this.now();
        const ops: KvOp[] = [
          { type: 'put', key: this.keys.stats, value: encodeRecord(stats) },
          { type: 'put', key: this.keys.metadata, value: encodeRecord(header.metadata) },
          { type: 'put', key: partitionKey(partition, this.hash), value: new Uint8Array(0) },
        ];
        for (const [points, incoming] of [[header.incoming_sync, true], [header.outgoing_sync, false]] as const) {
          for (const p of points) ops.push({ type: 'put', key: this.keys.sync(p.remote_id, incoming), value: encodeRecord([p.sync_point, now]) });
        }
        ops.push({ type: 'put', key: this.keys.sync(sourceId, true), value: encodeRecord([header.max_row, now]) });
        // The record goes last: until it is written, the database does not exist.
        ops.push({ type: 'put', key: this.keys.info, value: encodeRecord(record) });
        await kv.batch(ops);
      } catch (err) {
        await kv.clear(this.keys.all);
        throw err;
      }
    });
  }
}

