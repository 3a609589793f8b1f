import type { RecordListing, RecordListOptions, RecordStore, StoredRecord } from '../client/record-store.ts';

/**
 * A record store that counts what goes through it, by `<call> <type>` (`get ports`,
 * `create ip-allocations`...): each call is one request to the cluster's proxy, so the counts
 * are what an API request costs the cluster.
 */
export class CountingRecordStore implements RecordStore {
  readonly counts = new Map<string, number>();
  private readonly inner: RecordStore;

  constructor(inner: RecordStore) {
    this.inner = inner;
  }

  private count(call: string, type: string): void {
    const key = `${call} ${type}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Every count so far, and starts again from zero. */
  take(): Map<string, number> {
    const out = new Map(this.counts);
    this.counts.clear();
    return out;
  }

  get<T = unknown>(type: string, key: string): Promise<StoredRecord<T> | undefined> {
    this.count('get', type);
    return this.inner.get<T>(type, key);
  }

  create(type: string, key: string, value: unknown): Promise<string> {
    this.count('create', type);
    return this.inner.create(type, key, value);
  }

  put(type: string, key: string, value: unknown, options?: { readonly ifVersion?: string }): Promise<string> {
    this.count('put', type);
    return this.inner.put(type, key, value, options);
  }

  delete(type: string, key: string, options?: { readonly ifVersion?: string }): Promise<boolean> {
    this.count('delete', type);
    return this.inner.delete(type, key, options);
  }

  list(type: string, options?: RecordListOptions): Promise<RecordListing> {
    this.count('list', type);
    return this.inner.list(type, options);
  }

  changeMark(type: string): Promise<string> {
    this.count('changeMark', type);
    return this.inner.changeMark(type);
  }

  noteChange(type: string): Promise<void> {
    this.count('noteChange', type);
    return this.inner.noteChange(type);
  }

  ensureType(type: string): Promise<void> {
    this.count('ensureType', type);
    return this.inner.ensureType(type);
  }
}
