import type { Clock } from '../common/clock.ts';
import { RecordCopy } from '../client/record-copy.ts';
import type { RecordStore } from '../client/record-store.ts';

/**
 * Compute's view of its record store: typed reads and whole-type scans. Each record is read with
 * `X-Newest` by the store. A scan lists the type with each record's version and reads only the
 * records this process's copy does not hold at that version (`RecordCopy`), so a scan of
 * unchanged records costs one listing.
 */
export class ComputeStore {
  readonly records: RecordStore;
  readonly clock: Clock;
  private readonly copies = new Map<string, RecordCopy<unknown>>();

  constructor(records: RecordStore, clock: Clock) {
    this.records = records;
    this.clock = clock;
  }

  async get<T>(type: string, key: string): Promise<T | undefined> {
    return (await this.records.get<T>(type, key))?.value;
  }

  /** Every record of `type` under `prefix`, in key order. */
  scan<T>(type: string, prefix?: string): Promise<T[]> {
    return this.copyOf<T>(type).all(prefix);
  }

  /** The records of `type` named by `keys` (undefined where none), as of one listing of the type. */
  readMany<T>(type: string, keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.copyOf<T>(type).many(keys);
  }

  private copyOf<T>(type: string): RecordCopy<T> {
    let copy = this.copies.get(type);
    if (!copy) this.copies.set(type, (copy = new RecordCopy<unknown>(this.records, type)));
    return copy as RecordCopy<T>;
  }

  /** Nova's timestamp text: `2013-09-03T04:01:32Z`. */
  isoSeconds(ms = this.clock.now()): string {
    return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  }

  /** Nova's database timestamps as its views print them: `2014-05-07T12:06:13.000000`. */
  isoMicros(ms = this.clock.now()): string {
    return `${new Date(ms).toISOString().slice(0, 23)}000`;
  }
}
