import type { RecordStore } from './record-store.ts';

/**
 * A process's copy of one record type's records, revalidated by a listing: each listing row
 * carries the record's version (its ETag), so one listing tells which copies are still
 * current and only the records that changed (or are new) are read. This is the image
 * service's revalidation (`compute/image/image-store.ts`) without its change mark: that mark
 * skips the listing only when every writer notes its changes, which server and host records,
 * written by APIs and agents everywhere, do not.
 */
export class RecordCopy<T> {
  private readonly records: RecordStore;
  private readonly type: string;
  private readonly copy = new Map<string, { readonly version: string; readonly value: T }>();

  constructor(records: RecordStore, type: string) {
    this.records = records;
    this.type = type;
  }

  /** Every record under `prefix`, in key order, as of one listing. */
  async all(prefix?: string): Promise<T[]> {
    const listed = await this.listVersions(prefix);
    const out = await this.current([...listed.keys()], listed);
    return out.filter((v): v is T => v !== undefined);
  }

  /** The records named (undefined for those that do not exist), as of one listing of the whole type. */
  async many(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.current(keys, await this.listVersions(undefined));
  }

  private async listVersions(prefix: string | undefined): Promise<Map<string, string>> {
    const listed = new Map<string, string>();
    for (let marker: string | undefined; ; ) {
      const page = await this.records.list(this.type, { ...(prefix !== undefined ? { prefix } : {}), ...(marker !== undefined ? { marker } : {}) });
      for (const { key, version } of page.entries) listed.set(key, version);
      if (!page.truncated || page.entries.length === 0) break;
      marker = (page.entries.at(-1) as { key: string }).key;
    }
    // Records gone from the listing leave the copy (under the prefix listed: others were not looked at).
    for (const key of this.copy.keys()) if ((prefix === undefined || key.startsWith(prefix)) && !listed.has(key)) this.copy.delete(key);
    return listed;
  }

  /** The copies whose version is the listed one; the others read (16 at a time) and kept. */
  private async current(keys: readonly string[], listed: ReadonlyMap<string, string>): Promise<(T | undefined)[]> {
    const out: (T | undefined)[] = new Array(keys.length);
    const stale: number[] = [];
    for (const [i, key] of keys.entries()) {
      const version = listed.get(key);
      if (version === undefined) continue;
      const kept = this.copy.get(key);
      if (kept?.version === version) out[i] = kept.value;
      else stale.push(i);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < stale.length) {
        const i = stale[next++] as number;
        const key = keys[i] as string;
        const found = await this.records.get<T>(this.type, key);
        if (found) this.copy.set(key, { version: found.version, value: found.value });
        else this.copy.delete(key);
        out[i] = found?.value;
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, stale.length) }, worker));
    return out;
  }
}
