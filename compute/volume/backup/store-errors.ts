import { SwiftError } from '../../../common/errors.ts';

/** A backup object the metadata names is not in the store. */
export class BackupObjectMissing extends SwiftError {
  readonly container: string;
  readonly object: string;

  constructor(container: string, object: string) {
    super('BACKUP_OBJECT_MISSING', `backup object ${container}/${object} not found`);
    this.container = container;
    this.object = object;
  }
}

/** The store refused or failed an operation (Cinder's SwiftConnectionFailed). */
export class BackupStoreError extends SwiftError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('BACKUP_STORE_FAILED', `backup store: ${detail}`, options);
  }
}
