import { RecordExistsError, type RecordStore, type StoredRecord } from '../../client/record-store.ts';
import { listAllKeys, updateRecord } from '../../client/record-update.ts';

/** How many records a scan reads at once. */
const READ_CONCURRENCY = 16;

/**
 * The network service's state in its system account (`AUTH_.network`): one record type per
 * resource (`networks`, `subnets`, `ports`, `security-groups`, `security-group-rules`,
 * `routers`, `floatingips`, `quotas`) keyed by id, and claims that must never be given twice
 * as records of their own, created only if absent: `ip-allocations` (`<subnet>/<address>`),
 * `mac-allocations` (`<network>/<mac>`) and `default-security-groups` (`<project>`).
 *
 * `scan` reads every record of a type, re-reading only those whose version changed since the
 * last scan in this process (one listing request otherwise), as identity's store does.
 */
export class NetworkStore {
  readonly records: RecordStore;
  private readonly cache = new Map<string, Map<string, StoredRecord>>();

  constructor(records: RecordStore) {
    this.records = records;
  }

  async get<R>(type: string, id: string): Promise<R | undefined> {
    return (await this.records.get<R>(type, id))?.value;
  }

  async scan<R>(type: string): Promise<R[]> {
    let cached = this.cache.get(type);
    if (!cached) this.cache.set(type, (cached = new Map()));
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
      const hit = cached.get(e.key);
      if (hit && hit.version === e.version) out[i] = hit.value as R;
      else stale.push(i);
    });
    for (let i = 0; i < stale.length; i += READ_CONCURRENCY) {
      await Promise.all(
        stale.slice(i, i + READ_CONCURRENCY).map(async (index) => {
          const key = (entries[index] as { key: string }).key;
          const record = await this.records.get<R>(type, key);
          if (record) cached.set(key, record);
          else cached.delete(key);
          out[index] = record?.value;
        }),
      );
    }
    const listed = new Set(entries.map((e) => e.key));
    for (const key of cached.keys()) if (!listed.has(key)) cached.delete(key);
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

  /** Compare-and-swap update; `undefined` when there is no such record. `change` may throw to refuse. */
  async update<R>(type: string, id: string, change: (current: R) => R | undefined): Promise<R | undefined> {
    const written = await updateRecord<R>(this.records, type, id, (current) => change(current.value));
    if (written) this.remember(type, written);
    return written?.value;
  }

  async delete(type: string, key: string): Promise<boolean> {
    this.cache.get(type)?.delete(key);
    return this.records.delete(type, key);
  }

  /**
   * What this process wrote is known without reading it back: the next scan finds the same
   * version in the listing and uses it (a port create would otherwise re-read every port made
   * since the last scan).
   */
  private remember(type: string, record: StoredRecord): void {
    const cached = this.cache.get(type);
    if (cached) cached.set(record.key, record);
  }

  /** Takes `key` for `value` if nobody has it: `true` when this call took it. */
  async claim(type: string, key: string, value: unknown): Promise<boolean> {
    try {
      await this.records.create(type, key, value);
      return true;
    } catch (err) {
      if (err instanceof RecordExistsError) return false;
      throw err;
    }
  }
}
