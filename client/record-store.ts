import { SwiftError } from '../common/errors.ts';

/**
 * The services' record store (DESIGN.md, "The services on the cluster"): small JSON records,
 * one container per record type in a system account, one object per record, the container
 * listing as the index. Identity keeps its domains, users and roles here; images, compute,
 * network and volumes will too. Implementations: `SwiftRecordStore` (the cluster, through
 * its public API) and `MemoryRecordStore` (the twin for tests); both pass
 * test/conformance/record-store.ts.
 *
 * A record's `version` is an opaque tag that changes with its content (the ETag of its JSON).
 * Safe concurrent updates are compare-and-swap: read, change, `put` with `ifVersion` (see
 * `updateRecord`); `create` is create-if-absent. Keys may hold `/` and are listed in byte
 * order, so a prefix is an index (`<domain>/<name>`).
 */
export interface StoredRecord<T = unknown> {
  readonly key: string;
  readonly value: T;
  readonly version: string;
}

export interface RecordListing {
  /** Keys in byte order, with their versions. */
  readonly entries: readonly { readonly key: string; readonly version: string }[];
  /** The page is full: more keys may follow the last one (ask again with it as `marker`). */
  readonly truncated: boolean;
}

export interface RecordListOptions {
  readonly prefix?: string;
  /** Start after this key. */
  readonly marker?: string;
  /** At most this many (default and maximum: `MAX_RECORD_LIST`). */
  readonly limit?: number;
  /**
   * `false`: one replica's listing, for a reader that polls (default: every replica is asked,
   * `X-Newest`). Its rows are no older: the proxy picks a container's `X-Newest` answer by the
   * container's own `X-Put-Timestamp`, which rows do not move, so on a tie it keeps the first
   * primary that answered, the replica a plain listing reads.
   */
  readonly newest?: boolean;
}

/** The most keys one `list` returns (Swift's container listing limit). */
export const MAX_RECORD_LIST = 10_000;

export interface RecordStore {
  /** The record, or `undefined` when there is none. */
  get<T = unknown>(type: string, key: string): Promise<StoredRecord<T> | undefined>;
  /**
   * Stores a new record; returns its version.
   * @throws {RecordExistsError} when the key is taken.
   */
  create(type: string, key: string, value: unknown): Promise<string>;
  /**
   * Stores the record, replacing any; with `ifVersion`, only over that version. Returns the new
   * version.
   * @throws {RecordVersionError} when `ifVersion` is given and the record is gone or changed.
   */
  put(type: string, key: string, value: unknown, options?: { readonly ifVersion?: string }): Promise<string>;
  /**
   * Removes the record; `false` when there was none. With `ifVersion`, only that version.
   * @throws {RecordVersionError} when `ifVersion` is given and the record is gone or changed.
   */
  delete(type: string, key: string, options?: { readonly ifVersion?: string }): Promise<boolean>;
  /** One page of keys. */
  list(type: string, options?: RecordListOptions): Promise<RecordListing>;
  /**
   * An opaque mark of the type's state, cheaper to read than a listing: it changes after every
   * `noteChange`, and when a record is added. An overwrite or a delete may leave it as it was
   * (a delete can bring the count back to an earlier one), so a reader caching on it relies on
   * every writer calling `noteChange` after its write returns.
   */
  changeMark(type: string): Promise<string>;
  /** Gives the type a new change mark (after a write, for readers caching on `changeMark`). */
  noteChange(type: string): Promise<void>;
  /**
   * Makes the type now, empty, if it is not there (a type is otherwise made by its first
   * write): a reader that polls a type nobody wrote yet then lists an empty container on one
   * replica instead of asking every replica and the handoffs for one that is missing.
   */
  ensureType(type: string): Promise<void>;
}

/** `create` of a key that exists. */
export class RecordExistsError extends SwiftError {
  constructor(type: string, key: string) {
    super('RECORD_EXISTS', `${type} record ${JSON.stringify(key)} exists`);
  }
}

/** A conditional write or delete met another version than the one it was given. */
export class RecordVersionError extends SwiftError {
  constructor(type: string, key: string) {
    super('RECORD_VERSION_CHANGED', `${type} record ${JSON.stringify(key)} changed or is gone`);
  }
}

/** A record type names a container: lower-case letters, digits, `-` and `_`. */
export function checkRecordType(type: string): void {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(type)) throw new RangeError(`invalid record type ${JSON.stringify(type)}`);
}

/** A key is an object name: 1 to 1024 bytes of UTF-8, no NUL. */
export function checkRecordKey(key: string): void {
  if (key === '' || key.includes('\0') || Buffer.byteLength(key) > 1024 || !key.isWellFormed()) throw new RangeError(`invalid record key ${JSON.stringify(key)}`);
}
