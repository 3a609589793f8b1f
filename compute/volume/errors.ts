import { SwiftError } from '../../common/errors.ts';

/**
 * Errors of the volume layer (the driver and the backup engine). The volume API maps them at
 * its edge as Cinder does: `VolumeNotFound`/`SnapshotNotFound` are Cinder's 404s,
 * `InvalidVolume`/`InvalidBackup` its 400s, `SnapshotIsBusy` and `VolumeIsBusy` its 400s
 * (cinder/exception.py: both are `Invalid`), the rest a fault on the volume or backup.
 */

/** No volume by that name on this driver. */
export class VolumeNotFound extends SwiftError {
  readonly volume: string;

  constructor(volume: string) {
    super('VOLUME_NOT_FOUND', `Volume ${volume} could not be found.`);
    this.volume = volume;
  }
}

/** No snapshot by that name on this driver. */
export class SnapshotNotFound extends SwiftError {
  readonly snapshot: string;

  constructor(snapshot: string) {
    super('SNAPSHOT_NOT_FOUND', `Snapshot ${snapshot} could not be found.`);
    this.snapshot = snapshot;
  }
}

/** A volume or snapshot of that name exists already; nothing was changed. */
export class VolumeExists extends SwiftError {
  readonly id: string;

  constructor(id: string) {
    super('VOLUME_EXISTS', `${id} already exists.`);
    this.id = id;
  }
}

/** The request does not fit the volume (a shrink, a bad size, a format the driver lacks). */
export class InvalidVolume extends SwiftError {
  constructor(reason: string) {
    super('VOLUME_INVALID', `Invalid volume: ${reason}`);
  }
}

/** Volumes made from the snapshot still read through it, so it cannot go (Cinder's SnapshotIsBusy). */
export class SnapshotIsBusy extends SwiftError {
  readonly snapshot: string;

  constructor(snapshot: string) {
    super('SNAPSHOT_IS_BUSY', `deleting snapshot ${snapshot} that has dependent volumes`);
    this.snapshot = snapshot;
  }
}

/** The backup cannot be made or restored as asked (Cinder's InvalidBackup); nothing was changed. */
export class InvalidBackup extends SwiftError {
  constructor(reason: string) {
    super('BACKUP_INVALID', `Invalid backup: ${reason}`);
  }
}

/**
 * Restored data did not match what the backup recorded (a block's SHA-256 or a chunk's MD5):
 * the chunk was not written to the volume.
 */
export class BackupCorrupt extends SwiftError {
  readonly object: string;

  constructor(object: string, detail: string) {
    super('BACKUP_CORRUPT', `backup object ${object}: ${detail}`);
    this.object = object;
  }
}

/** An image the volume service will not turn into a volume (Cinder's ImageUnacceptable); `reason` says why. */
export class ImageUnacceptable extends SwiftError {
  readonly reason: string;

  constructor(imageId: string, reason: string) {
    super('IMAGE_UNACCEPTABLE', `Image ${imageId} is unacceptable: ${reason}`);
    this.reason = reason;
  }
}
