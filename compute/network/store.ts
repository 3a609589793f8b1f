import type { Clock } from '../../common/clock.ts';
import { RecordExistsError, type RecordStore, type StoredRecord } from '../../client/record-store.ts';
import { listAllKeys, updateRecord } from '../../client/record-update.ts';

/** How many records a scan reads at once. */
const READ_CONCURRENCY = 16;

/**
 * Types that change seldom (an operator's or a project's setup, not a boot's): within
 * `freshMs` of a full listing, scans and gets of these are answered from this process's copy.
 */
export const SLOW_CHANGING_TYPES: ReadonlySet<string> = new Set(['networks', 'subnets', 'security-groups', 'security-group-rules', 'default-security-groups', 'quotas']);

export interface NetworkStoreOptions {
  readonly clock: Clock;
  /**
   * How long a full listing of a slow-changing type is trusted without asking again (0: every
   * scan lists). What this process writes is seen at once; what another process writes, within
   * this long.
   */
  readonly freshMs: number;
}

interface TypeCache {
  readonly records: Map<string, StoredRecord>;
  /** When the records were last exactly the listing (no local write since, or written through). */
  listedAt: number;
  /** Bumped by every local write or delete of the type: a scan that saw it change does not prune or count as fresh. */
  generation: number;
  /** When each record was last read or written here (a get of a slow-changing type trusts it for `freshMs`). */
  readonly seenAt: Map<string, number>;
  /** Gets in flight by key, shared by callers of the same generation (50 boots missing the same record read it once). */
  readonly reading: Map<string, { readonly generation: number; readonly result: Promise<StoredRecord | undefined> }>;
  /** The scan in flight, which later callers of the same generation share. */
  inFlight?: { readonly generation: number; readonly result: Promise<unknown[]> };
}

/**
 * The network service's state in its system account (`AUTH_.network`): one record type per
 * resource (`networks`, `subnets`, `ports`, `security-groups`, `security-group-rules`,
 * `routers`, `floatingips`, `quotas`) keyed by id, and claims that must never be given twice
 * as records of their own, created only if absent: `ip-allocations` (`<subnet>/<address>`),
 * `mac-allocations` (`<network>/<mac>`) and `default-security-groups` (`<project>`).
 *
 * `scan` reads every record of a type, re-reading only those whose version changed since the
 * last scan in this process (one listing request otherwise), as identity's store does; scans
 * of a type that overlap share one listing. Slow-changing types (`SLOW_CHANGING_TYPES`) are
 * served from memory for `freshMs` after a listing.
 */
export class NetworkStore {
  readonly records: RecordStore;
  private readonly cache = new Map<string, TypeCache>();
  private readonly clock: Clock | undefined;
  private readonly freshMs: number;

  constructor(records: RecordStore, options?: NetworkStoreOptions) {
    this.records = records;
    this.clock = options?.clock;
    this.freshMs = options?.freshMs ?? 0;
  }

  private typeCache(type: string): TypeCache {
    let cached = this.cache.get(type);
    if (!cached) this.cache.set(type, (cached = { records: new Map(), listedAt: Number.NEGATIVE_INFINITY, generation: 0, seenAt: new Map(), reading: new Map() }));
    return cached;
  }

  private caches(type: string): boolean {
    return this.freshMs > 0 && this.clock !== undefined && SLOW_CHANGING_TYPES.has(type);
  }

  /** The type's records as last listed, when that listing is still fresh. */
  private fresh(type: string): TypeCache | undefined {
    if (!this.caches(type)) return undefined;
    const cached = this.cache.get(type);
    return cached && (this.clock as Clock).now() - cached.listedAt < this.freshMs ? cached : undefined;
  }

  async get<R>(type: string, id: string): Promise<R | undefined> {
    if (!this.caches(type)) return (await this.records.get<R>(type, id))?.value;
    const cached = this.typeCache(type);
    const now = (this.clock as Clock).now();
    // A fresh copy answers what it holds; a key it lacks may be another process's new record.
    const hit = cached.records.get(id);
    if (hit && (now - cached.listedAt < this.freshMs || now - (cached.seenAt.get(id) ?? Number.NEGATIVE_INFINITY) < this.freshMs)) return hit.value as R;
    const generation = cached.generation;
    const shared = cached.reading.get(id);
    if (shared?.generation === generation) return (await shared.result)?.value as R | undefined;
    const result = this.records.get<R>(type, id);
    cached.reading.set(id, { generation, result });
    try {
      const record = await result;
      if (record && cached.generation === generation) {
        cached.records.set(id, record);
        cached.seenAt.set(id, now);
      }
      return record?.value;
    } finally {
      if (cached.reading.get(id)?.result === result) cached.reading.delete(id);
    }
  }

  async scan<R>(type: string): Promise<R[]> {
    const cached = this.typeCache(type);
    if (this.fresh(type)) return [...cached.records.values()].map((r) => r.value as R);
    if (cached.inFlight?.generation === cached.generation) return (await cached.inFlight.result) as R[];
    const generation = cached.generation;
    const result = this.list<R>(type, cached, generation);
    cached.inFlight = { generation, result };
    try {
      return await result;
    } finally {
      if (cached.inFlight?.result === result) delete cached.inFlight;
    }
  }

  private async list<R>(type: string, cached: TypeCache, generation: number): Promise<R[]> {
    const startedAt = this.clock?.now() ?? 0;
    const entries: { key: string; version: string }[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.records.list(type, marker !== undefined ? { marker } : {});
      entries.push(...page.entries);
      if (!page.truncated || page.entries.length === 0) break;
      marker = (page.entries.at(-1) as { key: string }).key;
    }
    const out: (R | undefined)[] = new Array(entries.length);
    const stale: number[] = [];
    entries.forEach((e, i) => {
      const hit = cached.records.get(e.key);
      if (hit && hit.version === e.version) out[i] = hit.value as R;
      else stale.push(i);
    });
    for (let i = 0; i < stale.length; i += READ_CONCURRENCY) {
      await Promise.all(
        stale.slice(i, i + READ_CONCURRENCY).map(async (index) => {
          const key = (entries[index] as { key: string }).key;
          const record = await this.records.get<R>(type, key);
          // A local write meanwhile knows better than this read.
          if (cached.generation === generation) {
            if (record) cached.records.set(key, record);
            else cached.records.delete(key);
          }
          out[index] = record?.value;
        }),
      );
    }
    if (cached.generation === generation) {
      const listed = new Set(entries.map((e) => e.key));
      for (const key of cached.records.keys()) if (!listed.has(key)) cached.records.delete(key);
      cached.listedAt = startedAt;
    }
    return out.filter((r): r is Awaited<R> => r !== undefined) as R[];
  }

  /** Keys of a type under `prefix`, every page. */
  async keys(type: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of listAllKeys(this.records, type, prefix)) keys.push(key);
    return keys;
  }

  /** @throws {RecordExistsError} when the key is taken. */
  async create(type: string, key: string, value: unknown): Promise<void> {
    const version = await this.records.create(type, key, value);
    this.remember(type, { key, value, version });
  }

  /** Stores the record, replacing any (for records with one writer at a time, as an admin's quota). */
  async put(type: string, key: string, value: unknown): Promise<void> {
    const version = await this.records.put(type, key, value);
    this.remember(type, { key, value, version });
  }

  /** Compare-and-swap update; `undefined` when there is no such record. `change` may throw to refuse. */
  async update<R>(type: string, id: string, change: (current: R) => R | undefined): Promise<R | undefined> {
    const written = await updateRecord<R>(this.records, type, id, (current) => change(current.value));
    if (written) this.remember(type, written);
    return written?.value;
  }

  async delete(type: string, key: string): Promise<boolean> {
    this.forget(type, key);
    try {
      return await this.records.delete(type, key);
    } finally {
      // Again once it is gone: a scan that read the record before the delete landed is not fresh.
      this.forget(type, key);
    }
  }

  private forget(type: string, key: string): void {
    const cached = this.cache.get(type);
    if (cached) {
      cached.generation++;
      cached.records.delete(key);
      cached.seenAt.delete(key);
    }
  }

  /**
   * What this process wrote is known without reading it back: the next scan finds the same
   * version in the listing and uses it (a port create would otherwise re-read every port made
   * since the last scan).
   */
  private remember(type: string, record: StoredRecord): void {
    const cached = this.cache.get(type);
    if (cached) {
      cached.generation++;
      cached.records.set(record.key, record);
      if (this.clock && SLOW_CHANGING_TYPES.has(type)) cached.seenAt.set(record.key, this.clock.now());
    }
  }

  /** Takes `key` for `value` if nobody has it: `true` when this call took it. */
  async claim(type: string, key: string, value: unknown): Promise<boolean> {
    try {
      const version = await this.records.create(type, key, value);
      this.remember(type, { key, value, version });
      return true;
    } catch (err) {
      if (err instanceof RecordExistsError) return false;
      throw err;
    }
  }
}
