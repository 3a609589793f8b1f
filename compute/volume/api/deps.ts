import type { Clock } from '../../../common/clock.ts';
import type { KeyedLock } from '../../../common/keyed-lock.ts';
import type { Logger } from '../../../common/logger.ts';
import type { ImageApi } from '../../image-api.ts';
import type { ChunkedBackupEngine } from '../backup/chunked-backup.ts';
import type { BackupObjectStore } from '../backup/object-store.ts';
import type { VolumeDriver } from '../driver/types.ts';
import type { QosSpecs } from '../qos-specs.ts';
import type { SnapshotChains } from '../snapshot-chains.ts';
import type { VolumeQuotas } from '../quota.ts';
import type { VolumeRecords } from '../records.ts';
import type { VolumeTypes } from '../volume-types.ts';
import type { VolumeWorker } from '../worker.ts';
import type { VolumeContext } from './request.ts';

/** What the volume API's handlers work with. */
export interface VolumeApiDeps {
  readonly records: VolumeRecords;
  readonly driver: VolumeDriver;
  /** Limits and usage counters; every create reserves, every delete releases. */
  readonly quotas: VolumeQuotas;
  readonly types: VolumeTypes;
  /** QoS specs, which types point at (`qos_specs_id`). */
  readonly qosSpecs: QosSpecs;
  /** The backup engine writing into the caller's project's account (Cinder's per_user backups). */
  readonly backupEngine: (ctx: VolumeContext, projectId: string) => ChunkedBackupEngine;
  /**
   * `projectId`'s account reached with the service's own credential (the reseller
   * `backup_user`), for work no caller's token is there for at start: a backup delete resumed,
   * the objects of a backup cut off. Absent: those are left for an operator.
   */
  readonly serviceBackups?: (projectId: string) => ServiceBackupAccess;
  /** Where snapshots' bytes are kept: the volume service's own account, written by the same engine. */
  readonly snapshotCopies: SnapshotCopies;
  readonly worker: VolumeWorker;
  /** The image service (Glance v2), called with the caller's token; absent: no volumes from images. */
  readonly images?: ImageApi;
  /** Cinder's `image_conversion_dir`: images that are not raw are converted there (default: the system's temp dir). */
  readonly imageConversionDir?: string;
  /** The `qemu-img` command (default `qemu-img`). */
  readonly qemuImg?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Cinder's `storage_availability_zone` (default nova). */
  readonly availabilityZone: string;
  /** The volume host's name as `os-vol-host-attr:host` shows it (`host@backend#pool`). */
  readonly host: string;
  readonly newId: () => string;
  /**
   * Bytes in one of the API's GiB: 2^30 (`GIB`), except in tests, which make "1 GiB" volumes
   * small so backups of them take milliseconds.
   */
  readonly bytesPerGiB: number;
}

export const GIB = 1024 * 1024 * 1024;

/** A project's backups as the service itself reaches them. */
export interface ServiceBackupAccess {
  readonly engine: ChunkedBackupEngine;
  readonly store: BackupObjectStore;
  /** Where a backup that names no container goes (`backup_swift_container`). */
  readonly defaultContainer: string;
}

/**
 * Snapshots in the cluster: the engine over the volume service's own account (`AUTH_.volume`,
 * not the user's: Cinder's snapshots are not objects a user sees), the container there, and
 * the per-volume records of which objects belong to which snapshot.
 */
export interface SnapshotCopies {
  readonly engine: ChunkedBackupEngine;
  /** The engine's store, for finding the objects of an upload cut off before it named its prefix. */
  readonly store: BackupObjectStore;
  readonly container: string;
  readonly chains: SnapshotChains;
  /**
   * A volume being made from a snapshot and that snapshot's delete run one at a time (Cinder's
   * `<snapshot id>-delete_snapshot` lock around both); in this process, as Cinder's default
   * file lock is per host.
   */
  readonly locks: KeyedLock;
}
