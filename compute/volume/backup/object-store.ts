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
   * loop), else computed here. A body that is not `md5` is refused and nothing is stored.
   * @throws {BackupStoreError}
   */
  put(container: string, name: string, data: Uint8Array, md5?: string): Promise<void>;
  /** The object's bytes, in memory of their own (the caller may hand it to a thread). @throws {BackupObjectMissing}, {BackupStoreError} */
  get(container: string, name: string): Promise<Uint8Array>;
  /**
   * The object's bytes read into `into` (a view of its start) when they fit, else in memory of
   * their own as `get`'s. For a restore that reuses its memory: a fresh buffer per chunk costs
   * more to touch than the bytes cost to receive. @throws as `get`
   */
  getInto?(container: string, name: string, into: Uint8Array): Promise<Uint8Array>;
  /** Deletes the object; one that is already gone is no error. @throws {BackupStoreError} */
  delete(container: string, name: string): Promise<void>;
}
