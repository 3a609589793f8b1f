import { reservedName, splitReservedName } from '../../common/reserved-name.ts';
import { Timestamp } from '../../common/timestamp.ts';

/**
 * Names of object versioning (Swift's `ObjectVersioningContext`): the versions of container
 * `c` live in the hidden container `\0versions\0c`, each version of object `o` as
 * `\0o\0<inverted timestamp>`, so a listing shows an object's versions newest first and the
 * reserved namespace keeps them from clients.
 */

/** Sysmeta and client headers of a versioned container. */
export const CLIENT_VERSIONS_ENABLED = 'x-versions-enabled';
export const SYSMETA_VERSIONS_ENABLED = 'x-container-sysmeta-versions-enabled';
export const SYSMETA_VERSIONS_CONTAINER = 'x-container-sysmeta-versions-container';
/** Marks the link in the versioned container that points at the current version. */
export const SYSMETA_VERSIONS_SYMLINK = 'x-object-sysmeta-versions-symlink';
/** The content type of a delete marker. */
export const DELETE_MARKER_CONTENT_TYPE = 'application/x-deleted;swift_versions_deleted=1';

export function versionsContainerName(container: string): string {
  return reservedName('versions', container);
}

/** The container a hidden versions container keeps versions of; the name itself for any other. */
export function splitVersionsContainerName(name: string): string {
  const parts = splitReservedName(name);
  return parts?.length === 2 && parts[0] === 'versions' ? (parts[1] as string) : name;
}

/** Where an object's versions are listed from. */
export function versionsObjectPrefix(object: string): string {
  return reservedName(object, '');
}

/** The hidden name of the version of `object` written at `timestamp`. */
export function versionsObjectName(object: string, timestamp: Timestamp): string {
  return reservedName(object, timestamp.inverted.internal);
}

/** The object and version (timestamp) a hidden name stands for; no version for any other name. */
export function splitVersionName(name: string): { object: string; version?: Timestamp } {
  const parts = splitReservedName(name);
  if (parts?.length !== 2 || parts[1] === '') return { object: name };
  try {
    return { object: parts[0] as string, version: Timestamp.parse(parts[1] as string).inverted };
  } catch {
    return { object: name };
  }
}
