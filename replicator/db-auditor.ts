import { Daemon } from '../common/daemon.ts';
import type { DatabaseBroker, DbRecord, DbState } from '../common/db/broker.ts';
import { chexor, EMPTY_DB_HASH } from '../common/db/chexor.ts';
import type { Datadir } from '../common/db/datadir.ts';
import type { DbStats } from '../common/db/db-stats.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import { type BaseRow, type RowSchema, stripRowId } from '../common/db/row-schema.ts';
import { Timestamp } from '../common/timestamp.ts';
import { quarantineDb } from './db-quarantine.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { type LocalDb, localDbs, devicesWithDatadir } from './local-dbs.ts';
import type { StorageNodeContext } from './node-context.ts';

/** The settings every database auditor has. */
export interface DbAuditorSettings {
  /** Seconds between passes. */
  readonly interval: number;
  /** Most databases audited per second (0: no limit). */
  readonly perSecond: number;
  /** Seconds between full passes (0: every pass is full). */
  readonly fullCheckInterval: number;
}

/** An audit's outcome: fine, written to while checked (try again later), or broken. */
export type AuditVerdict = { readonly kind: 'ok' } | { readonly kind: 'busy' } | { readonly kind: 'broken'; readonly problem: string };

const OK: AuditVerdict = { kind: 'ok' };

const PAGE = 1000;
const HASH = /^[0-9a-f]{32}$/;

/**
 * The database auditor (Swift's `DatabaseAuditor`), shared by the container and account
 * auditors. Each pass opens every database on this node's devices, at most `perSecond` a
 * second, and checks:
 *
 * 1. It reads: its record, stats and metadata decode.
 * 2. Its info is coherent: names, timestamps, id and partition are there and well formed, and
 *    it sits in the partition its record names; its stats are well formed.
 * 3. On a full pass (every `full_check_interval`), its stats match its rows: counts and bytes
 *    per policy and the chexor hash are recomputed from every row, no row is both live and
 *    deleted, every row is reachable through the row sequence replication reads, and no row
 *    is numbered past `max_row`. A database written during its check is left for next time.
 *
 * A database that fails is quarantined: a copy of what can be read is kept under
 * `<device>/quarantined/`, and it is removed from the device, so replication restores it from
 * the other replicas. Counts: `passes`, `quarantined`, `failures` (audits that could not run),
 * `full_checks`, `busy`.
 */
export abstract class DbAuditor<Row extends BaseRow, B extends DatabaseBroker<Row, DbRecord>, D extends Datadir<B>> extends Daemon {
  protected readonly ctx: StorageNodeContext;
  private readonly settings: DbAuditorSettings;
  private lastFullAt: number | undefined;
  /** Swift's datadir name. */
  protected abstract readonly datadirName: string;
  /** How this kind of row counts and hashes. */
  protected abstract readonly schema: RowSchema<Row>;

  constructor(ctx: StorageNodeContext, settings: DbAuditorSettings) {
    super({ clock: ctx.clock, logger: ctx.logger });
    this.ctx = ctx;
    this.settings = settings;
  }

  /** The node's databases of this kind. */
  protected abstract datadirs(): DeviceDbs<D>;

  /** Checks of this kind's own record fields; a problem, or undefined. */
  protected checkOwnRecord(_record: Readonly<Record<string, unknown>>): string | undefined {
    return undefined;
  }

  protected intervalMs(): number {
    return this.settings.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const full = this.settings.fullCheckInterval === 0 || this.lastFullAt === undefined || now - this.lastFullAt >= this.settings.fullCheckInterval * 1000;
    const source = { devices: this.ctx.devices, mountCheck: this.ctx.mountCheck, datadirName: this.datadirName, dbs: this.datadirs(), logger: this.logger };
    const devices = await devicesWithDatadir(source);
    await forEachPaced(localDbs(source, devices), { concurrency: 1, perSecond: this.settings.perSecond, clock: this.clock, signal }, async (db) => {
      try {
        await this.auditDb(db, full);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.count('failures');
        this.logger.error('could not audit database', { daemon: this.name, device: db.device, hash: db.hash, err });
      }
    });
    if (full) this.lastFullAt = now;
  }

  private async auditDb(db: LocalDb<D>, full: boolean): Promise<void> {
    const broker = db.datadir.broker(db.hash);
    const stillIndexed = async (): Promise<boolean> => {
      for await (const entry of db.datadir.entries(db.partition)) if (entry.hash === db.hash) return true;
      return false;
    };
    const verdict = await this.audit(broker, db.partition, full, stillIndexed);
    if (full) this.count('full_checks');
    if (verdict.kind === 'busy') {
      this.count('busy');
      return;
    }
    if (verdict.kind === 'ok') {
      this.count('passes');
      return;
    }
    await quarantineDb(broker, { devices: this.ctx.devices, device: db.device, datadirName: this.datadirName, reason: verdict.problem, now: this.clock.now() }, this.logger);
    this.count('quarantined');
  }

  /**
   * One database's audit: `full` adds the recount from its rows.
   * @param partition the partition the database was found indexed under.
   * @param stillIndexed whether it still is (it may have moved since the walk saw it).
   */
  async audit(broker: B, partition: number, full: boolean, stillIndexed: () => Promise<boolean> = async () => true): Promise<AuditVerdict> {
    let state: DbState<DbRecord> | undefined;
    try {
      state = await broker.state();
      if (state) await broker.getReplicationInfo();
    } catch (err) {
      return { kind: 'broken', problem: `unreadable: ${(err as Error).message}` };
    }
    if (!state) return OK; // removed while we walked
    const record = state.record as unknown as Readonly<Record<string, unknown>>;
    const problem = checkRecord(record) ?? this.checkOwnRecord(record) ?? checkStats(state.stats, this.schema.statsWidth);
    if (problem) return { kind: 'broken', problem };
    if (state.record.partition !== partition) {
      if (!(await stillIndexed())) return { kind: 'busy' }; // moved by the replicator meanwhile
      return { kind: 'broken', problem: `indexed in partition ${partition} but its record says ${state.record.partition}` };
    }
    if (!full) return OK;
    let recount: Recount;
    try {
      recount = await this.recount(broker);
    } catch (err) {
      return { kind: 'broken', problem: `rows unreadable: ${(err as Error).message}` };
    }
    const after = await broker.state();
    if (!after) return OK;
    // Rows read while they changed prove nothing: check again next pass.
    if (after.stats.max_row !== state.stats.max_row || after.stats.hash !== state.stats.hash) return { kind: 'busy' };
    const mismatch = compare(recount, after.stats);
    return mismatch === undefined ? OK : { kind: 'broken', problem: mismatch };
  }

  /** Everything the stats say, recomputed from the rows. */
  private async recount(broker: B): Promise<Recount> {
    const policies = new Map<string, number[]>();
    let hash = EMPTY_DB_HASH;
    let maxRowId = -1;
    let rows = 0;
    let rowIdSum = 0;
    const seen = new Set<string>();
    let duplicate: string | undefined;
    for await (const part of broker.dump(PAGE)) {
      if (!Array.isArray(part)) continue; // the header
      for (const wire of part as readonly (Row & { ROWID: number })[]) {
        const row = stripRowId(wire);
        const key = this.schema.key(row);
        if (seen.has(key)) duplicate ??= row.name;
        seen.add(key);
        const vector = policies.get(String(row.storage_policy_index)) ?? new Array<number>(this.schema.statsWidth).fill(0);
        this.schema.stats(row).forEach((v, i) => {
          vector[i] = (vector[i] ?? 0) + v;
        });
        policies.set(String(row.storage_policy_index), vector);
        hash = chexor(hash, this.schema.identity(row));
        maxRowId = Math.max(maxRowId, wire.ROWID);
        rows += 1;
        rowIdSum += wire.ROWID;
      }
    }
    let sequenced = 0;
    let sequencedSum = 0;
    for (let point = -1; ; ) {
      const page = await broker.getItemsSince(point, PAGE);
      if (page.length === 0) break;
      sequenced += page.length;
      for (const row of page) sequencedSum += row.ROWID;
      point = (page.at(-1) as { ROWID: number }).ROWID;
    }
    return { policies, hash, maxRowId, rows, rowIdSum, sequenced, sequencedSum, duplicate };
  }
}

interface Recount {
  readonly policies: ReadonlyMap<string, readonly number[]>;
  readonly hash: string;
  readonly maxRowId: number;
  readonly rows: number;
  readonly rowIdSum: number;
  readonly sequenced: number;
  readonly sequencedSum: number;
  readonly duplicate: string | undefined;
}

/** The stats against the recount: what does not match, or undefined. */
function compare(recount: Recount, stats: DbStats): string | undefined {
  if (recount.duplicate !== undefined) return `row ${JSON.stringify(recount.duplicate)} is both live and deleted`;
  if (recount.hash !== stats.hash) return `hash ${stats.hash} but the rows hash to ${recount.hash}`;
  if (recount.maxRowId > stats.max_row) return `a row is numbered ${recount.maxRowId}, past max_row ${stats.max_row}`;
  if (recount.sequenced !== recount.rows || recount.sequencedSum !== recount.rowIdSum) {
    return `${recount.rows} rows but ${recount.sequenced} reachable by sequence`;
  }
  const keys = new Set([...Object.keys(stats.policies), ...recount.policies.keys()]);
  for (const key of keys) {
    const stored = stats.policies[key] ?? [];
    const counted = recount.policies.get(key) ?? [];
    const width = Math.max(stored.length, counted.length);
    for (let i = 0; i < width; i++) {
      if ((stored[i] ?? 0) !== (counted[i] ?? 0)) return `policy ${key} stats ${JSON.stringify(stored)} but the rows count ${JSON.stringify(counted)}`;
    }
  }
  return undefined;
}

function checkRecord(record: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof record !== 'object' || record === null) return 'record is not a map';
  if (typeof record['account'] !== 'string' || record['account'] === '') return 'record has no account';
  if (typeof record['id'] !== 'string' || record['id'] === '') return 'record has no id';
  if (typeof record['status'] !== 'string') return 'record has no status';
  const partition = record['partition'];
  if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0) return 'record has no partition';
  for (const name of ['created_at', 'put_timestamp', 'delete_timestamp', 'status_changed_at']) {
    const value = record[name];
    try {
      if (typeof value !== 'string') throw new Error('missing');
      Timestamp.parse(value);
    } catch {
      return `record ${name} is not a timestamp: ${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

function checkStats(stats: DbStats, width: number): string | undefined {
  if (typeof stats !== 'object' || stats === null) return 'stats are not a map';
  if (typeof stats.max_row !== 'number' || !Number.isSafeInteger(stats.max_row) || stats.max_row < -1) return 'stats have no max_row';
  if (typeof stats.hash !== 'string' || !HASH.test(stats.hash)) return 'stats have no hash';
  if (typeof stats.policies !== 'object' || stats.policies === null) return 'stats have no policies';
  for (const [policy, vector] of Object.entries(stats.policies)) {
    if (!/^\d+$/.test(policy)) return `stats name policy ${JSON.stringify(policy)}`;
    if (!Array.isArray(vector) || vector.length !== width || vector.some((v) => typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      return `stats of policy ${policy} are ${JSON.stringify(vector)}`;
    }
  }
  return undefined;
}
