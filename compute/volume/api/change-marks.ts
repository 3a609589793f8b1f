import type { VolumeApiDeps } from './deps.ts';

/**
 * The volume service's side of changed-block tracking (`VolumeDriver.markChanges`): a backup
 * marks the volume as it starts, so the next incremental reads only what changed after. Both
 * are best effort: a mark that cannot be made or dropped costs the next incremental a full
 * read (it finds no mark it can trust), never a wrong backup, so neither fails the backup.
 */
export async function markChanges(deps: Pick<VolumeApiDeps, 'driver' | 'logger'>, volumeId: string, mark: string): Promise<boolean> {
  if (!deps.driver.markChanges) return false;
  try {
    return await deps.driver.markChanges(volumeId, mark);
  } catch (err) {
    deps.logger.warn('changed-block tracking not started; the next incremental reads the whole volume', { volume: volumeId, mark, err });
    return false;
  }
}

/** Drops `which` marks of the volume (see `VolumeDriver.dropChangeMarks`), logging a failure. */
export async function dropChangeMarks(deps: Pick<VolumeApiDeps, 'driver' | 'logger'>, volumeId: string, which: { readonly mark: string } | { readonly allBut: string }): Promise<void> {
  try {
    await deps.driver.dropChangeMarks?.(volumeId, which);
  } catch (err) {
    deps.logger.warn('changed-block tracking marks not dropped', { volume: volumeId, ...which, err });
  }
}
