/**
 * The storage below the account and container brokers: an ordered key-value store with atomic
 * batches and seekable range iterators. `LevelKv` (classic-level, one LevelDB per device and
 * server type) is the real one; `MemoryKv` is its in-memory twin. Both pass
 * `test/conformance/ordered-kv.ts`.
 *
 * Keys are strings ordered by their UTF-8 bytes (code point order, see `key-order.ts`); values
 * are bytes. Nothing here knows about brokers: key layout and encoding live in the brokers.
 */
export type KvOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: string };

/** A key range; `gt`/`gte` and `lt`/`lte` bound it. Iterators walk it backwards with `reverse`. */
export interface KvRange {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
}

/** A key and its value, as iterators yield them. */
export type KvEntry = readonly [key: string, value: Uint8Array];

/** A cursor over a range. Entries written after it was made may or may not be seen. */
export interface KvIterator {
  /** Up to `size` next entries in range order; fewer may come back, and none means the end. */
  nextv(size: number): Promise<KvEntry[]>;
  /**
   * Moves the cursor: later entries are `>= target` (`<= target` when reverse). A target
   * outside the range ends the iterator.
   */
  seek(target: string): void;
  close(): Promise<void>;
}

/** An ordered key-value store (see the top of this file). */
export interface OrderedKv {
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * `get` on the calling thread: for small values mostly in cache, where a trip to the thread
   * pool costs more than the read (an object GET's lookup).
   */
  getSync(key: string): Uint8Array | undefined;
  /** Values in the order of `keys`; `undefined` for missing ones. */
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** Applies every operation, in order, or none of them. */
  batch(ops: readonly KvOp[]): Promise<void>;
  iterator(range: KvRange): KvIterator;
  /** Deletes every key in the range. */
  clear(range: KvRange): Promise<void>;
  close(): Promise<void>;
}

/** Opens the store kept at a directory (created when missing). */
export type KvOpener = (path: string) => Promise<OrderedKv>;
