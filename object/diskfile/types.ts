import type { Timestamp } from '../../common/timestamp.ts';

/**
 * The on-disk abstraction of the object server (Swift's DiskFile API): a manager hands out a
 * `DiskFile` per object; the object server reads, writes and deletes through it and never
 * touches a path. Two implementations pass one conformance suite
 * (`test/conformance/diskfile.ts`): `fs.ts` (the real one) and `memory.ts`.
 *
 * Metadata is a dict keyed by Swift's header names (`X-Timestamp`, `Content-Type`,
 * `Content-Length`, `ETag`, `name`, `X-Object-Meta-*`, ...), as Swift stores it.
 */
export type Metadata = Readonly<Record<string, string>>;

/** What an implementation can do (abstract-level's manifest idea). */
export interface DiskFileSupports {
  /** Data survives a process restart. */
  readonly durable: boolean;
  /** Reads verify per-block checksums and quarantine a corrupt file. */
  readonly blockChecksums: boolean;
}

export interface ObjectLocation {
  readonly device: string;
  readonly partition: number;
  readonly account: string;
  readonly container: string;
  readonly object: string;
}

/** The current state of an object: its data file's metadata merged with a newer `.meta`. */
export interface ObjectState {
  readonly metadata: Metadata;
  /** The `.data` file's timestamp. */
  readonly dataTimestamp: Timestamp;
  /** The newest of data and `.meta` timestamps (`X-Timestamp`). */
  readonly timestamp: Timestamp;
  /** When the content type was last set (a POST may change it). */
  readonly contentTypeTimestamp: Timestamp;
  /** Metadata of the `.meta` file alone, if there is one (what a POST wrote). */
  readonly metaFileMetadata: Metadata | undefined;
  /** Metadata of the `.data` file alone (what replication ships with the data). */
  readonly dataFileMetadata: Metadata;
  readonly contentLength: number;
}

export interface OpenOptions {
  /** Serve objects past `X-Delete-At` too (replication does). */
  readonly openExpired?: boolean;
}

export interface DiskFile {
  /** The object's hash (its directory name). */
  readonly hash: string;
  /**
   * The object's current state without opening its data.
   * @throws {DiskFileNotExist} nothing there; {DiskFileDeleted} a tombstone; {DiskFileExpired}
   *   past X-Delete-At; {DiskFileQuarantined} corrupt (moved aside).
   */
  readMetadata(options?: OpenOptions): Promise<ObjectState>;
  /**
   * Opens the object for reading. The returned reader keeps the data it opened even if the
   * object is replaced or deleted meanwhile; close it when done (reading to the end closes it).
   * @throws the same errors as `readMetadata`.
   */
  open(options?: OpenOptions): Promise<ObjectReader>;
  /** Starts a new version of the object; nothing is visible until `commit`. */
  create(expectedSize?: number): Promise<ObjectWriter>;
  /** Writes a tombstone at `timestamp`, making older versions obsolete. */
  delete(timestamp: Timestamp): Promise<void>;
  /** Writes POST metadata (a `.meta` file): must contain `X-Timestamp`. */
  writeMetadata(metadata: Metadata): Promise<void>;
}

export interface ReadOptions {
  /**
   * The caller is done with each chunk when it asks for the next one (as the HTTP server is),
   * so the reader may lend its own buffers instead of copying out of them.
   */
  readonly lend?: boolean;
}

export interface ObjectReader extends ObjectState {
  /**
   * The bytes `[start, end)` (default: all). Data is verified before it is yielded: on a
   * corrupt block the file is quarantined and the iteration throws `DiskFileQuarantined`,
   * so no bad byte ever reaches a client.
   */
  read(start?: number, end?: number, options?: ReadOptions): AsyncIterable<Buffer>;
  /** Whether `read` with `lend` hands out the reader's own buffers (else chunks are the caller's). */
  readonly lends: boolean;
  /** The data file on this machine's disk, when there is one (not for objects held in memory or a database). */
  readonly localFile?: LocalObjectFile;
  close(): Promise<void>;
}

/**
 * An object's data file as another process on the same machine may open it (the proxy's
 * local reads): its absolute path, and `<st_dev>:<st_ino>` to check that the file opened there
 * is this one. The name holds the data's timestamp, so the path never names another version.
 */
export interface LocalObjectFile {
  readonly path: string;
  readonly id: string;
}

export interface ObjectWriter {
  /**
   * Appends body bytes (backpressure: resolves when the bytes are handed to the disk). The
   * chunk is the writer's from then on: it may keep it until written out (no copy), or
   * release its memory once copied. Do not read or reuse it after the call.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * `write`, without a promise when the chunk was taken at once (copied into memory bound for
   * the disk): a caller taking chunks as they arrive waits only when one is returned.
   */
  writeNow?(chunk: Uint8Array): Promise<void> | undefined;
  readonly bytesWritten: number;
  /**
   * Keeps the xxHash64 of the block checksums the writer stores, for a body whose sender sent
   * that (put-footer's `BlockChecksumsHash`), so its bytes need no second hash: call before
   * the first write; the function it returns gives the digest once the last byte is written
   * (before `commit`). Undefined (or absent) when the writer's blocks are not `blockSize`
   * bytes or it keeps no block checksums: the caller hashes the body itself.
   */
  digestBlockChecksums?(blockSize: number): (() => string) | undefined;
  /**
   * Makes this version durable and current: metadata must include `X-Timestamp`, `ETag`,
   * `Content-Length` (= bytes written) and `name`. Resolves only once it survives a crash.
   */
  commit(metadata: Metadata): Promise<void>;
  /** Discards what was written. Safe to call after a failure or twice. */
  abort(): Promise<void>;
}

/** One object in a partition as replication sees it: its hash and which files are current. */
export interface ObjectEntry {
  readonly hash: string;
  readonly suffix: string;
  /** The current `.data` file's timestamp, when the object exists. */
  readonly dataTimestamp?: Timestamp;
  /** The tombstone's timestamp, when the object is deleted. */
  readonly tombstoneTimestamp?: Timestamp;
  /** A `.meta` newer than the data. */
  readonly metaTimestamp?: Timestamp;
}

export interface DiskFileManager {
  readonly supports: DiskFileSupports;
  /**
   * The DiskFile of one object (which may not exist yet).
   * @throws {DeviceUnavailableError} when the device is missing or unmounted.
   */
  diskFile(location: ObjectLocation): Promise<DiskFile>;
  /**
   * The DiskFile of an object known only by hash (replication, auditing): its name comes from
   * its metadata. Writing through it needs metadata with `name`.
   */
  diskFileByHash(device: string, partition: number, hash: string): Promise<DiskFile>;
  /** Partitions that hold objects on a device. */
  partitions(device: string): Promise<number[]>;
  /** The objects of a partition (only those under `suffixes`, when given), in hash order. */
  objects(device: string, partition: number, suffixes?: readonly string[]): AsyncIterable<ObjectEntry>;
  /** Removes a partition's objects from a device (a handoff partition that reached home). */
  removePartition(device: string, partition: number): Promise<void>;
  /**
   * Removes one object's files if they are still exactly `entry` (a handoff copy that every
   * primary now has); a newer write since is kept. Resolves whether it was removed.
   */
  removeIfUnchanged(device: string, partition: number, entry: ObjectEntry): Promise<boolean>;
  /** Moves a corrupt object aside, as reads do; replication then restores it from a good replica. */
  quarantineByHash(device: string, partition: number, hash: string, reason: string): Promise<void>;
  /**
   * Suffix hashes of a partition (`REPLICATE`): a hash per suffix directory that changes
   * whenever anything in it does. `recalculate` lists suffixes to hash afresh.
   */
  getHashes(device: string, partition: number, recalculate?: readonly string[]): Promise<Record<string, string>>;
  /** Releases what the manager holds open. */
  close(): Promise<void>;
}
