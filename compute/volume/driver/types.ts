/**
 * The volume driver of a storage host (Cinder's volume driver, kept small): volumes and their
 * snapshots as sparse files in one volume directory, and the byte access the backup engine
 * needs. Two implementations pass one conformance suite (`test/conformance/volume-driver.ts`):
 * `file.ts` (raw and qcow2 files, as Cinder's NFS/remotefs drivers keep them) and `memory.ts`
 * (the twin).
 *
 * Sizes are bytes (the API's GiB times 2^30, so tests can use small volumes). Volumes and
 * snapshots are named by their Cinder UUIDs. Every call either does all it says or changes
 * nothing, and a call that resolves has made its change durable.
 */

/** How a volume's bytes are kept: a sparse raw file, or a qcow2 image (maybe over a backing snapshot). */
export type VolumeFormat = 'raw' | 'qcow2';

export interface VolumeInfo {
  readonly id: string;
  readonly format: VolumeFormat;
  /** The size the guest sees, bytes. */
  readonly sizeBytes: number;
  /** The snapshot a qcow2 volume reads through (its backing file), if any. */
  readonly backingSnapshot?: string;
}

export interface SnapshotInfo {
  readonly id: string;
  readonly volumeId: string;
  readonly format: VolumeFormat;
  readonly sizeBytes: number;
}

/**
 * A volume opened for byte access (Cinder's `volume_file`): positional reads and writes, so the
 * backup engine streams a volume chunk by chunk and restores chunks where they belong.
 */
export interface VolumeFile {
  readonly sizeBytes: number;
  /** Up to `length` bytes from `position` (fewer only at the end of the volume), in a new buffer the caller owns. */
  read(position: number, length: number): Promise<Uint8Array>;
  /**
   * Reads into `buffer` from `position`, as much as fits (less only at the end of the volume);
   * the number of bytes read. For readers that reuse their memory (a backup: fresh memory costs
   * more to touch than the read).
   */
  readInto?(buffer: Uint8Array, position: number): Promise<number>;
  /** @throws {InvalidVolume} past the end of the volume, or on a handle opened read-only. */
  write(position: number, data: Uint8Array): Promise<void>;
  /**
   * `write` for a writer that does not read the bytes back soon (a restore): where it can, the
   * bytes go to the disk without a copy in the page cache. Durable only after `sync`, as `write`.
   * @throws {InvalidVolume} as `write`
   */
  writeDirect?(position: number, data: Uint8Array): Promise<void>;
  /**
   * The byte ranges (`[start, end)`, in order) that may have changed since the volume began
   * tracking changes as `mark` (`VolumeDriver.markChanges`), whoever wrote them: a superset of
   * what changed, rounded out to the tracking's granularity. `undefined` when this volume
   * cannot say (no such mark, or one that cannot be trusted): read it all.
   */
  changedSince?(mark: string): Promise<ReadonlyArray<readonly [number, number]> | undefined>;
  /** Makes every write so far durable. */
  sync(): Promise<void>;
  /** Syncs (when written) and releases the handle. */
  close(): Promise<void>;
}

/** What `VolumeDriver.sweepLeftovers` removed. */
export interface LeftoverSweep {
  /** Files of operations cut off: volumes and snapshots being written under temporary names, and snapshot sidecars without their snapshot. */
  readonly partialFiles: number;
  /** Helper processes (qemu-nbd exports) left running by the dead process, ended. */
  readonly stoppedExports: number;
  /** Their sockets and pid files (of those ended, and of those that had exited), removed. */
  readonly exportFiles: number;
}

export interface VolumeDriver {
  /** The formats `createVolume` accepts. */
  readonly formats: readonly VolumeFormat[];
  /** A new volume of zeros. @throws {VolumeExists}, {InvalidVolume} (size, format) */
  createVolume(id: string, sizeBytes: number, options?: { format?: VolumeFormat }): Promise<VolumeInfo>;
  /**
   * A new volume holding the snapshot's data, at least as big as the snapshot (Cinder's
   * create_volume_from_snapshot): a copy for raw, an overlay backed by the snapshot for qcow2.
   * @throws {SnapshotNotFound}, {VolumeExists}, {InvalidVolume} (smaller than the snapshot)
   */
  createVolumeFromSnapshot(id: string, snapshotId: string, sizeBytes: number): Promise<VolumeInfo>;
  /** Grows the volume; the new bytes read as zeros. @throws {VolumeNotFound}, {InvalidVolume} (not bigger) */
  extendVolume(id: string, sizeBytes: number): Promise<VolumeInfo>;
  /** @throws {VolumeNotFound} */
  deleteVolume(id: string): Promise<void>;
  getVolume(id: string): Promise<VolumeInfo | undefined>;
  /**
   * A point-in-time copy of the volume's data, that later writes to the volume do not change.
   * @throws {VolumeNotFound}, {VolumeExists}
   */
  createSnapshot(snapshotId: string, volumeId: string): Promise<SnapshotInfo>;
  /** @throws {SnapshotNotFound}, {SnapshotIsBusy} (volumes read through it) */
  deleteSnapshot(snapshotId: string): Promise<void>;
  getSnapshot(snapshotId: string): Promise<SnapshotInfo | undefined>;
  /** The ids of every snapshot this host has a copy of (a sweep for copies whose snapshot is gone). */
  listSnapshots(): Promise<string[]>;
  /** @throws {VolumeNotFound} */
  openVolume(id: string, mode: 'r' | 'rw'): Promise<VolumeFile>;
  /**
   * Where a hypervisor on this host opens the volume (os-brick's `local` connection), when the
   * driver keeps it in a file; the twin has none.
   */
  localPath?(id: string): string;
  /** A snapshot's data, read-only (backups from a snapshot). @throws {SnapshotNotFound} */
  openSnapshot(snapshotId: string): Promise<VolumeFile>;
  /**
   * Changed-block tracking, for incremental backups that read only what changed: from now on
   * every write to the volume, by any writer, is recorded under `mark` (a qcow2 volume's
   * persistent dirty bitmap, kept by QEMU itself), until `dropChangeMarks`. False when this
   * volume cannot track (a raw file, an image another process holds).
   * @throws {VolumeNotFound}
   */
  markChanges?(volumeId: string, mark: string): Promise<boolean>;
  /** Stops tracking under `mark`, or under every mark but `allBut`; marks that do not exist are no error. */
  dropChangeMarks?(volumeId: string, which: { readonly mark: string } | { readonly allBut: string }): Promise<void>;
  /**
   * Removes what operations cut off by the death of an earlier process left behind (partly
   * written files, helper processes still holding a volume), as a Cinder driver does when its
   * host starts. Volumes and snapshots are unchanged. Call once when the service starts, before
   * anything uses the driver: all it finds is then a dead process's.
   */
  sweepLeftovers(): Promise<LeftoverSweep>;
}
