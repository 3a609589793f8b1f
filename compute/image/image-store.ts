import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import { type RecordStore, RecordExistsError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { ImageRecord } from './image-record.ts';

/** The record type of images. */
export const IMAGES = 'images';

/**
 * The longest a listing is trusted on an unchanged change mark: what heals a change whose
 * writer's `noteChange` was lost (it failed, or the container update lagged behind it).
 */
export const LISTING_MAX_AGE_MS = 5_000;

/**
 * Images in the record store, one record per image keyed by id, with an in-process copy of every
 * record for listings. A listing first reads the type's change mark (one container HEAD): when
 * it is the one the copy was made at (and the copy is younger than `LISTING_MAX_AGE_MS`), the
 * copy is current and nothing else is read. Otherwise the `images` container is listed (one
 * request, each row carrying the record's ETag) and only the records that changed are read.
 * Every write here notes a change after it, so a record written by any image process is in
 * the next listing of every other one (docs/decisions.md, "The image service"). Shows and
 * writes always read the record itself (`X-Newest`), and writes are compare-and-swaps.
 */
export class ImageStore {
  readonly records: RecordStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache = new Map<string, { version: string; image: ImageRecord }>();
  private refreshing: Promise<void> | undefined;
  /** The change mark read before the copy's last listing, and when that listing began. */
  private listedMark: string | undefined;
  private listedAt = Number.NEGATIVE_INFINITY;

  constructor(records: RecordStore, deps: { clock: Clock; logger: Logger }) {
    this.records = records;
    this.clock = deps.clock;
    this.logger = deps.logger;
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
    await this.noteChange();
  }

  /**
   * Applies `change` to the current record and writes it over the version read, again from
   * the newer version on a conflict. `change` may throw to refuse (nothing is written) or
   * return `undefined` to keep the record. Returns the record as stored, or undefined if none.
   */
  async update(id: string, change: (image: ImageRecord) => ImageRecord | undefined): Promise<ImageRecord | undefined> {
    let wrote = false;
    const stored = await updateRecord<ImageRecord>(this.records, IMAGES, id, (current) => {
      const next = change(current.value);
      wrote = next !== undefined;
      return next;
    });
    if (!stored) {
      this.cache.delete(id);
      return undefined;
    }
    this.cache.set(id, { version: stored.version, image: stored.value });
    if (wrote) await this.noteChange();
    return stored.value;
  }

  async delete(id: string): Promise<void> {
    await this.records.delete(IMAGES, id);
    this.cache.delete(id);
    await this.noteChange();
  }

  /**
   * Tells the other image processes' listings that a record changed. The write itself is done
   * and stands, so a failure here is logged, not raised: the others then see the change within
   * `LISTING_MAX_AGE_MS`.
   */
  private async noteChange(): Promise<void> {
    try {
      await this.records.noteChange(IMAGES);
    } catch (err) {
      this.logger.warn('image: could not note a change for the other listings', { err });
    }
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
    // Read before listing: a change noted after this read gives a new mark, so the next call lists.
    const mark = await this.records.changeMark(IMAGES);
    const started = this.clock.monotonic();
    if (mark === this.listedMark && started - this.listedAt < LISTING_MAX_AGE_MS) return;
    await this.relist();
    this.listedMark = mark;
    this.listedAt = started;
  }

  private async relist(): Promise<void> {
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
