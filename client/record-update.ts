import { type RecordStore, RecordVersionError, type StoredRecord } from './record-store.ts';

/** What a change decides: the new value, or `undefined` to leave the record as it is. */
export type RecordChange<T> = (current: StoredRecord<T>) => T | undefined | Promise<T | undefined>;

/**
 * Changes one record safely while others may change it too: read it, apply `change`, write it
 * back only over the version read, and on a conflict start again from the new version (at most
 * `attempts` times). Returns the record as written (or as found, when `change` kept it), or
 * `undefined` when there is no such record.
 * @throws {RecordVersionError} when every attempt met a newer version.
 */
export async function updateRecord<T>(store: RecordStore, type: string, key: string, change: RecordChange<T>, attempts = 5): Promise<StoredRecord<T> | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.get<T>(type, key);
    if (!current) return undefined;
    const next = await change(current);
    if (next === undefined) return current;
    try {
      const version = await store.put(type, key, next, { ifVersion: current.version });
      return { key, value: next, version };
    } catch (err) {
      if (!(err instanceof RecordVersionError) || attempt >= attempts) throw err;
    }
  }
}

/** Every key of a type under `prefix`, page by page. */
export async function* listAllKeys(store: RecordStore, type: string, prefix?: string): AsyncGenerator<string> {
  let marker: string | undefined;
  for (;;) {
    const page = await store.list(type, { ...(prefix !== undefined ? { prefix } : {}), ...(marker !== undefined ? { marker } : {}) });
    for (const entry of page.entries) yield entry.key;
    if (!page.truncated || page.entries.length === 0) return;
    marker = (page.entries.at(-1) as { key: string }).key;
  }
}
