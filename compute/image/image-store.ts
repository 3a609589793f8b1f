import { type RecordStore, RecordExistsError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { ImageRecord } from './image-record.ts';

/** The record type of images. */
export const IMAGES = 'images';

/**
 * Images in the record store, one record per image keyed by id, with an in-process copy of every
 * record for listings: a listing of the `images` container (one request, each row carrying the
 * record's ETag) tells which records changed since the copy was made, and only those are read
 * again. So `image list` over 1,000 images costs one container listing plus the records other
 * processes changed, not 1,000 reads (docs/decisions.md, "The image service"). Shows and writes
 * always read the record itself (`X-Newest`), and writes are compare-and-swaps.
 */
export class ImageStore {
  readonly records: RecordStore;
  private readonly cache = new Map<string, { version: string; image: ImageRecord }>();
  private refreshing: Promise<void> | undefined;

  constructor(records: RecordStore) {
    this.records = records;
  }

  async get(id: string): Promise<ImageRecord | undefined> {
    const found = await this.records.get<ImageRecord>(IMAGES, id);
    if (!found) {
      this.cache.delete(id);
      return undefined;
    }
    this.cache.set(id, { version: found.version, image: found.value });
    return found.value;
  }

  /** @throws {RecordExistsError} when the id is taken. */
  async create(image: ImageRecord): Promise<void> {
    const version = await this.records.create(IMAGES, image.id, image);
    this.cache.set(image.id, { version, image });
  }

  /**
   * Applies `change` to the current record and writes it over the version read, again from
   * the newer version on a conflict. `change` may throw to refuse (nothing is written) or
   * return `undefined` to keep the record. Returns the record as stored, or undefined if none.
   */
  async update(id: string, change: (image: ImageRecord) => ImageRecord | undefined): Promise<ImageRecord | undefined> {
    const stored = await updateRecord<ImageRecord>(this.records, IMAGES, id, (current) => change(current.value));
    if (!stored) {
      this.cache.delete(id);
      return undefined;
    }
    this.cache.set(id, { version: stored.version, image: stored.value });
    return stored.value;
  }

  async delete(id: string): Promise<void> {
    await this.records.delete(IMAGES, id);
    this.cache.delete(id);
  }

  /** Every image, current as of the listing this call makes. Concurrent callers share one. */
  async all(): Promise<ImageRecord[]> {
    const pending = (this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    }));
    await pending;
    return [...this.cache.values()].map((e) => e.image);
  }

  private async refresh(): Promise<void> {
    const seen = new Set<string>();
    const stale: string[] = [];
    for (let marker: string | undefined; ; ) {
      const page = await this.records.list(IMAGES, marker !== undefined ? { marker } : {});
      for (const { key, version } of page.entries) {
        seen.add(key);
        if (this.cache.get(key)?.version !== version) stale.push(key);
      }
      if (!page.truncated || page.entries.length === 0) break;
      marker = (page.entries.at(-1) as { key: string }).key;
    }
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    // Reads of changed records, a few at a time.
    for (let i = 0; i < stale.length; i += 16) await Promise.all(stale.slice(i, i + 16).map((id) => this.get(id)));
  }
}

export { RecordExistsError };
