import { SwiftError } from '../../common/errors.ts';
import type { Timestamp } from '../../common/timestamp.ts';
import type { Metadata } from './types.ts';

/**
 * Why an object cannot be served. The object server maps these to statuses at its edge
 * (all are 404 except `DiskFileNoSpace`, 507); `DiskFileDeleted` and `DiskFileExpired` carry
 * the timestamp so the proxy can tell a tombstone from nothing at all.
 */
export class DiskFileNotExist extends SwiftError {
  constructor(message = 'object does not exist', code = 'DISKFILE_NOT_EXIST') {
    super(code, message);
  }
}

/** The newest file is a tombstone written at `timestamp`. */
export class DiskFileDeleted extends DiskFileNotExist {
  readonly timestamp: Timestamp;

  constructor(timestamp: Timestamp, message = `object was deleted at ${timestamp.internal}`, code = 'DISKFILE_DELETED') {
    super(message, code);
    this.timestamp = timestamp;
  }
}

/** The object's `X-Delete-At` has passed; `metadata` is what it had. */
export class DiskFileExpired extends DiskFileDeleted {
  readonly metadata: Metadata;

  constructor(timestamp: Timestamp, metadata: Metadata) {
    super(timestamp, `object expired at ${metadata['X-Delete-At'] ?? '?'}`, 'DISKFILE_EXPIRED');
    this.metadata = metadata;
  }
}

/** The file was corrupt (bad header, size or block checksum) and has been moved aside. */
export class DiskFileQuarantined extends DiskFileNotExist {
  readonly reason: string;

  constructor(reason: string) {
    super(`object quarantined: ${reason}`, 'DISKFILE_QUARANTINED');
    this.reason = reason;
  }
}

/** The file under this object's hash belongs to another name. */
export class DiskFileCollision extends DiskFileNotExist {
  constructor(expected: string, found: string) {
    super(`hash collision: expected ${expected}, found ${found}`, 'DISKFILE_COLLISION');
  }
}

/** The device is full. */
export class DiskFileNoSpace extends SwiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DISKFILE_NO_SPACE', message, options);
  }
}

/** A full device (`ENOSPC`, or a quota's `EDQUOT`) as `DiskFileNoSpace`, which servers answer 507; other errors as they are. */
export function asNoSpace(device: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFileNoSpace(`${device} is full`, { cause: err }) : err;
}
