import { KeyedLock } from '../keyed-lock.ts';

/** Rows merged in one group commit at most: bounds one batch's size and latency. */
const MAX_GROUP = 2048;

interface Group<I> {
  readonly items: I[];
  promise?: Promise<void>;
}

/**
 * Serializes the writes of each database and batches its row updates. Every change to one
 * database runs under its key, one at a time, so counts kept beside the rows stay exact. Row
 * updates that arrive while a commit runs wait together and go in the next commit as one
 * LevelDB batch: Swift's `.pending` file, without the file. Under load, 32 concurrent object
 * updates to a container cost about one read and one write, not 32 of each.
 */
export class WriteQueue {
  private readonly mutex = new KeyedLock();
  private readonly pending = new Map<string, Group<unknown>>();

  /** Runs `task` alone for `key` (after everything queued before it). */
  exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.mutex.run(key, task);
  }

  /**
   * Adds `item` to the next group commit for `key`; resolves when the batch holding it is
   * written, or rejects with the commit's error. The group runs the `commit` of its first
   * item, so every caller for one key must pass the same one.
   */
  enqueue<I>(key: string, item: I, commit: (items: I[]) => Promise<void>): Promise<void> {
    let group = this.pending.get(key) as Group<I> | undefined;
    if (!group || group.items.length >= MAX_GROUP) {
      const fresh: Group<I> = { items: [] };
      fresh.promise = this.mutex.run(key, () => {
        // From here on, new items start the next group.
        if (this.pending.get(key) === fresh) this.pending.delete(key);
        return commit(fresh.items);
      });
      this.pending.set(key, fresh as Group<unknown>);
      group = fresh;
    }
    group.items.push(item);
    return group.promise as Promise<void>;
  }
}
