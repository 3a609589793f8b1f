import { checkRecordKey, checkRecordType, MAX_RECORD_LIST, type RecordListing, type RecordListOptions, type RecordStore, RecordExistsError, RecordVersionError, type StoredRecord } from './record-store.ts';
import { encodeRecord } from './record-encoding.ts';

/**
 * The record store's in-memory twin, for tests: the same contract as the cluster's
 * (test/conformance/record-store.ts). Values are kept as JSON, so a caller that changes an
 * object it stored or read never changes the stored record.
 */
export class MemoryRecordStore implements RecordStore {
  private readonly types = new Map<string, Map<string, { json: string; version: string }>>();
  private readonly changes = new Map<string, number>();

  async get<T = unknown>(type: string, key: string): Promise<StoredRecord<T> | undefined> {
    check(type, key);
    const found = this.types.get(type)?.get(key);
    return found ? { key, value: JSON.parse(found.json) as T, version: found.version } : undefined;
  }

  async create(type: string, key: string, value: unknown): Promise<string> {
    check(type, key);
    if (this.table(type).has(key)) throw new RecordExistsError(type, key);
    return this.store(type, key, value);
  }

  async put(type: string, key: string, value: unknown, options: { readonly ifVersion?: string } = {}): Promise<string> {
    check(type, key);
    if (options.ifVersion !== undefined && this.table(type).get(key)?.version !== options.ifVersion) throw new RecordVersionError(type, key);
    return this.store(type, key, value);
  }

  async delete(type: string, key: string, options: { readonly ifVersion?: string } = {}): Promise<boolean> {
    check(type, key);
    const table = this.table(type);
    if (options.ifVersion !== undefined && table.get(key)?.version !== options.ifVersion) throw new RecordVersionError(type, key);
    return table.delete(key);
  }

  async list(type: string, options: RecordListOptions = {}): Promise<RecordListing> {
    checkRecordType(type);
    const limit = Math.min(options.limit ?? MAX_RECORD_LIST, MAX_RECORD_LIST);
    const prefix = options.prefix ?? '';
    const marker = options.marker === undefined ? undefined : Buffer.from(options.marker);
    const keys = [...this.table(type).keys()]
      .filter((k) => k.startsWith(prefix) && (marker === undefined || Buffer.compare(Buffer.from(k), marker) > 0))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, limit);
    return { entries: page.map((key) => ({ key, version: (this.table(type).get(key) as { version: string }).version })), truncated: page.length === limit };
  }

  async changeMark(type: string): Promise<string> {
    checkRecordType(type);
    return `${this.changes.get(type) ?? 0}/${this.table(type).size}`;
  }

  async noteChange(type: string): Promise<void> {
    checkRecordType(type);
    this.changes.set(type, (this.changes.get(type) ?? 0) + 1);
  }

  async ensureType(type: string): Promise<void> {
    checkRecordType(type);
    this.table(type);
  }

  private table(type: string): Map<string, { json: string; version: string }> {
    let table = this.types.get(type);
    if (!table) this.types.set(type, (table = new Map()));
    return table;
  }

  private store(type: string, key: string, value: unknown): string {
    const { bytes, version } = encodeRecord(value);
    this.table(type).set(key, { json: bytes.toString(), version });
    return version;
  }
}

function check(type: string, key: string): void {
  checkRecordType(type);
  checkRecordKey(key);
}
