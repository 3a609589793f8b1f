import { SwiftError } from '../errors.ts';

/**
 * Broker errors. Servers map them at their edge (`databaseHttpError`): not found is 404,
 * already exists 409, a bad replication request 400, a full device 507.
 */

/** The database (account or container) does not exist on this device. */
export class DatabaseNotFoundError extends SwiftError {
  readonly hash: string;

  constructor(hash: string) {
    super('DB_NOT_FOUND', `database ${hash} does not exist`);
    this.hash = hash;
  }
}

/** `initialize` or a replication load found the database already there. */
export class DatabaseAlreadyExistsError extends SwiftError {
  readonly hash: string;

  constructor(hash: string) {
    super('DB_ALREADY_EXISTS', `database ${hash} already exists`);
    this.hash = hash;
  }
}

/** A row or request body sent for replication is malformed. */
export class ReplicationRequestError extends SwiftError {
  constructor(problem: string, options?: { cause?: unknown }) {
    super('REPLICATION_BAD_REQUEST', problem, options);
  }
}

/** The device under a database is full: nothing more can be written to it. */
export class DatabaseNoSpaceError extends SwiftError {
  constructor(options?: { cause?: unknown }) {
    super('DB_NO_SPACE', 'no space left on the device', options);
  }
}
