import { RecordExistsError } from '../client/record-store.ts';
import { updateRecord } from '../client/record-update.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';

/**
 * The next integer of the sequence `name` (`sequences/<name>`): a counter moved by
 * compare-and-swap, created at 1 by the first caller, so ids are unique across API processes and
 * increase as Nova's autoincrement columns do (migrations, aggregates).
 */
export async function nextInSequence(store: ComputeStore, name: string): Promise<number> {
  for (;;) {
    const bumped = await updateRecord<{ last: number }>(store.records, T.sequences, name, (cur) => ({ last: cur.value.last + 1 }), 100);
    if (bumped) return bumped.value.last;
    try {
      await store.records.create(T.sequences, name, { last: 1 });
      return 1;
    } catch (err) {
      if (!(err instanceof RecordExistsError)) throw err;
    }
  }
}
