/**
 * A body made as it is sent, its length known up front: `pieces()` yields its `length` bytes in
 * order, each piece lent (the store is done with it when it asks for the next, which may fill the
 * same memory again); each call is a fresh pass from the start.
 */
export interface PiecedBody {
  readonly length: number;
  pieces(): Iterable<Uint8Array>;
}

/**
 * An object's bytes as they arrive: `length` when the store knows it up front (a hint: the
 * pieces are the bytes), and the pieces in order. Marked `markOwnChunks` when nobody else holds a
 * piece once read: the reader may then release each when done with it.
 */
export interface ObjectStream {
  readonly length: number | undefined;
  readonly pieces: AsyncIterable<Uint8Array>;
}

/**
 * Where backups are kept (what Cinder's ChunkedBackupDriver asks of its concrete drivers:
 * put_container, get_container_entries, object writer and reader, delete_object). The Swift
 * implementation (`swift-object-store.ts`) writes through `client/` into the cluster; the
 * memory twin (`memory-object-store.ts`) serves the engine's unit tests. Both pass
 * `test/conformance/backup-object-store.ts`.
 */
export interface BackupObjectStore {
  /** Creates the container when it does not exist (Cinder's `backup_create_containers`). */
  ensureContainer(container: string): Promise<void>;
  /** Every object name under `prefix`, in name order, across listing pages. */
  listNames(container: string, prefix: string): Promise<string[]>;
  /**
   * Stores the object durably, checked against its MD5 on the way (Cinder's SwiftObjectWriter
   * compares the ETag): `md5` when the caller has it (the backup engine hashes off the event
   * loop), else computed here (a pieced body's as its pieces pass, so the file is never whole in
   * memory). A body that is not `md5`, or pieces that are not `length` bytes, are refused and
   * nothing is stored. @throws {BackupStoreError}
   */
  put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void>;
  /** The object's bytes, in memory of their own (the caller may hand it to a thread). @throws {BackupObjectMissing}, {BackupStoreError} */
  get(container: string, name: string): Promise<Uint8Array>;
  /**
   * The object's bytes as they arrive, for a reader that needs them only front to back (a
   * sha256 file: 1.2 GB at 500 GiB of volume). @throws {BackupObjectMissing} (before any piece),
   * {BackupStoreError} (then, or while the pieces are read)
   */
  getStream(container: string, name: string): Promise<ObjectStream>;
  /**
   * The object's bytes read into `into` (a view of its start) when they fit, else in memory of
   * their own as `get`'s. For a restore that reuses its memory: a fresh buffer per chunk costs
   * more to touch than the bytes cost to receive. @throws as `get`
   */
  getInto?(container: string, name: string, into: Uint8Array): Promise<Uint8Array>;
  /** Deletes the object; one that is already gone is no error. @throws {BackupStoreError} */
  delete(container: string, name: string): Promise<void>;
}
