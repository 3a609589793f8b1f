import type { Clock } from '../common/clock.ts';
import { listAllKeys } from '../client/record-update.ts';
import type { RecordStore } from '../client/record-store.ts';

/**
 * Compute's view of its record store: typed reads and whole-type scans. Each record is read with
 * `X-Newest` by the store; a scan lists the keys and reads them a few at a time.
 */
export class ComputeStore {
  readonly records: RecordStore;
  readonly clock: Clock;

  constructor(records: RecordStore, clock: Clock) {
    this.records = records;
    this.clock = clock;
  }

  async get<T>(type: string, key: string): Promise<T | undefined> {
    return (await this.records.get<T>(type, key))?.value;
  }

  /** Every record of `type` under `prefix`, in key order. */
  async scan<T>(type: string, prefix?: string): Promise<T[]> {
    const keys: string[] = [];
    for await (const key of listAllKeys(this.records, type, prefix)) keys.push(key);
    const out: (T | undefined)[] = new Array(keys.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const i = next++;
        out[i] = (await this.records.get<T>(type, keys[i] as string))?.value;
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
    return out.filter((v): v is T => v !== undefined);
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
