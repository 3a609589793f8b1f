import type { StoredBackup } from '../backup/chunked-backup.ts';
import { type BackupRecord, BACKUPS, type VolumeRecord, VOLUMES } from '../records.ts';
import type { VolumeApiDeps } from './deps.ts';
import type { VolumeContext } from './request.ts';
import { cinderTime } from './views.ts';

/**
 * The backup manager's restore (cinder/backup/manager.py restore_backup): the backup's chain is
 * read from its records (parent by parent), restored onto the volume, then the backup is
 * `available` again and the volume `available`, or `error_restoring` when anything failed.
 * The backup and volume must already be `restoring` / `restoring-backup`.
 */
export async function restoreBackupTask(deps: VolumeApiDeps, ctx: VolumeContext, backup: BackupRecord, volume: VolumeRecord, volumeIsNew: boolean): Promise<void> {
  const now = (): string => cinderTime(deps.clock.now());
  let volumeStatus = 'available';
  try {
    const chain: StoredBackup[] = [];
    for (let b: BackupRecord | undefined = backup; b; ) {
      if (b.container === null || b.service_metadata === null) throw new Error(`backup ${b.id} has no objects`);
      chain.push({ id: b.id, container: b.container, serviceMetadata: b.service_metadata, parentId: b.parent_id });
      b = b.parent_id === null ? undefined : await deps.records.find<BackupRecord>(BACKUPS, b.parent_id, b.project_id, false);
      if (chain.length > 1000) throw new Error('backup chain too long');
    }
    const file = await deps.driver.openVolume(volume.id, 'rw');
    try {
      await deps.backupEngine(ctx, backup.account_project ?? backup.project_id).restore(chain, file, { volumeIsNew });
    } finally {
      await file.close();
    }
  } catch (err) {
    deps.logger.error('backup restore failed', { backup: backup.id, volume: volume.id, err });
    volumeStatus = 'error_restoring';
  }
  await deps.records.update<BackupRecord>(BACKUPS, backup, (cur) => ({ ...cur, status: 'available', updated_at: now() }));
  await deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: volumeStatus, updated_at: now() }));
}
