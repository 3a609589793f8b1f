import type { ChunkedBackupEngine } from '../backup/chunked-backup.ts';
import { type BackupRecord, BACKUPS, type VolumeRecord, VOLUMES } from '../records.ts';
import { backupAdminAction } from './admin-actions.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf, listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, metadataOf, optionalString, page, parseBool } from './input.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { reserveOrRefuse } from './over-quota.ts';
import { dropChangeMarks, markChanges } from './change-marks.ts';
import { restoreBackupTask } from './restore-task.ts';
import { createOrRelease, reserveVolume } from './volumes.ts';
import { backupDetail, backupSummary, cinderTime, DEFAULT_VOLUME_TYPE } from './views.ts';

/**
 * Cinder's backups API (cinder/api/contrib/backups.py, cinder/backup/api.py): create (full,
 * or incremental over the volume's newest available backup), list, detail, show, delete
 * (`available` or `error`, and no incremental depending on it), restore to a new or an
 * existing volume. The data goes through the backup engine into the project's own account.
 */
export function backupRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const find = (req: VolumeRequest, id: string) => findOwned<BackupRecord>(records, BACKUPS, req, id, 'Backup');

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const body = bodyObject(req, 'backup');
    const volumeId = optionalString(body, 'volume_id');
    if (!volumeId) throw new CinderError(400, "Invalid input for field/attribute backup. Value: 'volume_id' is a required property");
    const incremental = body['incremental'] === undefined ? false : parseBool(body['incremental'], 'incremental');
    const force = body['force'] === undefined ? false : parseBool(body['force'], 'force');
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (volume.status !== 'available' && volume.status !== 'in-use') throw new CinderError(400, `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${volume.status}".`);
    if (volume.status === 'in-use' && !force) throw new CinderError(400, 'Invalid volume: Backing up an in-use volume must use the force flag.');
    let parent: BackupRecord | undefined;
    if (incremental) {
      const mine = (await records.list<BackupRecord>(BACKUPS, volume.project_id)).filter((b) => b.volume_id === volume.id);
      parent = mine.filter((b) => b.status === 'available').sort((a, b) => a.data_timestamp.localeCompare(b.data_timestamp)).at(-1);
      if (!parent) throw new CinderError(400, 'Invalid backup: No backups available to do an incremental backup.');
    }
    const held = backupQuotaDeltas(volume.size);
    await reserveOrRefuse(() => deps.quotas.reserve(volume.project_id, held), 'backups', volume.size);
    const previousStatus = volume.status;
    let claimed: VolumeRecord | undefined;
    try {
      claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === previousStatus ? { ...cur, status: 'backing-up', previous_status: previousStatus, updated_at: now() } : undefined));
    } catch (err) {
      await deps.quotas.release(volume.project_id, held);
      throw err;
    }
    if (claimed?.status !== 'backing-up') await deps.quotas.release(volume.project_id, held);
    if (claimed?.status !== 'backing-up') throw new CinderError(400, `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${claimed?.status ?? 'deleted'}".`);
    const created = now();
    const backup: BackupRecord = {
      id: deps.newId(),
      project_id: volume.project_id,
      user_id: ctx.userId,
      volume_id: volume.id,
      snapshot_id: null,
      name: optionalString(body, 'name') ?? null,
      description: optionalString(body, 'description') ?? null,
      size: volume.size,
      status: 'creating',
      fail_reason: null,
      availability_zone: deps.availabilityZone,
      created_at: created,
      updated_at: null,
      data_timestamp: created,
      container: optionalString(body, 'container') ?? null,
      service_metadata: null,
      object_count: 0,
      parent_id: parent?.id ?? null,
      is_incremental: parent !== undefined,
      num_dependent_backups: 0,
      ...(atLeast(req.version, '3.43') && body['metadata'] !== undefined ? { metadata: metadataOf(body['metadata']) } : {}),
      host: deps.host,
    };
    await records.create(BACKUPS, backup);
    if (parent) await records.update<BackupRecord>(BACKUPS, parent, (cur) => ({ ...cur, num_dependent_backups: cur.num_dependent_backups + 1 }));
    deps.worker.start(`create backup ${backup.id}`, async () => {
      let result: Awaited<ReturnType<ReturnType<VolumeApiDeps['backupEngine']>['backup']>> | undefined;
      let failure: string | null = null;
      // Changed-block tracking from this backup's moment on, for the next incremental (a volume
      // that cannot track, raw or held by another process, is read whole next time, as Cinder
      // does), then the volume opened; the engine fetches the parent's hashes meanwhile.
      const marking = markChanges(deps, volume.id, backup.id);
      const opening = marking.then(() => deps.driver.openVolume(volume.id, 'r'));
      try {
        const parentStored = parent && parent.container !== null && parent.service_metadata !== null ? { id: parent.id, container: parent.container, serviceMetadata: parent.service_metadata, parentId: parent.parent_id } : undefined;
        result = await deps.backupEngine(ctx, volume.project_id).backup(
          { id: backup.id, volumeId: volume.id, name: backup.name, description: backup.description, createdAt: `${created.replace('T', ' ')}+00:00`, ...(backup.container !== null ? { container: backup.container } : {}), ...(parentStored ? { parent: parentStored } : {}) },
          opening,
        );
      } catch (err) {
        deps.logger.error('backup failed', { backup: backup.id, err });
        failure = (err as Error).message;
      } finally {
        await (await opening.catch(() => undefined))?.close();
      }
      await records.update<BackupRecord>(BACKUPS, backup, (cur) =>
        result ? { ...cur, status: 'available', container: result.container, service_metadata: result.serviceMetadata, object_count: result.objectCount, updated_at: now() } : { ...cur, status: 'error', fail_reason: failure, updated_at: now() },
      );
      if (!result && parent) await records.update<BackupRecord>(BACKUPS, parent, (cur) => ({ ...cur, num_dependent_backups: Math.max(0, cur.num_dependent_backups - 1) }));
      // Before the volume is free again (a mark dropped later could race the next backup's):
      // a finished backup's mark is the one its child can use; a failed one's goes, and the
      // previous backup's stays for the next try.
      if (await marking) await dropChangeMarks(deps, volume.id, result ? { allBut: backup.id } : { mark: backup.id });
      await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: previousStatus, updated_at: now() }));
    });
    return { status: 202, body: { backup: backupSummary(req, backup) } };
  };

  const list = (detail: boolean) => async (req: VolumeRequest): Promise<VolumeResponse> => {
    let rows = await records.list<BackupRecord>(BACKUPS, listingProject(req));
    for (const key of ['name', 'status', 'volume_id'] as const) {
      const want = req.query.get(key);
      if (want !== null) rows = rows.filter((b) => b[key] === want);
    }
    const shown = page(req, rows, (m) => `Invalid input received: marker [${m}] not found`);
    return { status: 200, body: { backups: shown.map((b) => (detail ? backupDetail(req, b) : backupSummary(req, b))) } };
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => ({ status: 200, body: { backup: backupDetail(req, await find(req, req.params['backup_id'] as string)) } });

  // Cinder's v3 backups update (3.9; `metadata` from 3.43): `openstack volume backup set`.
  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    if (!atLeast(req.version, '3.9')) throw new CinderError(404, 'The resource could not be found.');
    const fields = { ...bodyObject(req, 'backup') };
    const name = optionalString(fields, 'name');
    const description = optionalString(fields, 'description');
    const metadata = atLeast(req.version, '3.43') && 'metadata' in fields ? metadataOf(fields['metadata']) : undefined;
    delete fields['name'];
    delete fields['description'];
    if (metadata !== undefined) delete fields['metadata'];
    if (Object.keys(fields).length > 0) throw new CinderError(400, `Unsupported fields ${Object.keys(fields).join(', ')}.`);
    const backup = await find(req, req.params['backup_id'] as string);
    const updated = await records.update<BackupRecord>(BACKUPS, backup, (cur) => ({
      ...cur,
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      updated_at: now(),
    }));
    if (!updated) throw new CinderError(404, `Backup ${backup.id} could not be found.`);
    return { status: 200, body: { backup: backupSummary(req, updated) } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const backup = await find(req, req.params['backup_id'] as string);
    let refusal = '';
    const claimed = await records.update<BackupRecord>(BACKUPS, backup, (cur) => {
      if (cur.status !== 'available' && cur.status !== 'error') refusal = 'Invalid backup: Backup status must be available or error';
      else if (cur.num_dependent_backups > 0) refusal = 'Invalid backup: Incremental backups exist for this backup.';
      else return { ...cur, status: 'deleting', host: deps.host, updated_at: now() };
      return undefined;
    });
    if (refusal) throw new CinderError(400, refusal);
    if (!claimed) throw new CinderError(404, `Backup ${backup.id} could not be found.`);
    const ctx = contextOf(req);
    deps.worker.start(`delete backup ${backup.id}`, () => deleteBackupTask(deps, deps.backupEngine(ctx, claimed.account_project ?? claimed.project_id), claimed));
    return { status: 202 };
  };

  const restore = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const body = bodyObject(req, 'restore');
    const backup = await find(req, req.params['backup_id'] as string);
    if (backup.status !== 'available') throw new CinderError(400, 'Invalid backup: Backup status must be available');
    const volumeId = optionalString(body, 'volume_id');
    let volume: VolumeRecord;
    let volumeIsNew = false;
    if (volumeId) {
      volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
      if (volume.status !== 'available') throw new CinderError(400, 'Invalid volume: Volume to be restored to must be available');
      if (backup.size > volume.size) throw new CinderError(400, `Invalid volume: volume size ${volume.size} is too small to restore backup of size ${backup.size}.`);
    } else {
      // Cinder's backup API creates the volume and waits for it before restoring.
      volume = {
        id: deps.newId(),
        project_id: ctx.projectId,
        user_id: ctx.userId,
        name: optionalString(body, 'name') ?? `restore_backup_${backup.id}`,
        description: 'auto-created_from_restore_from_backup',
        size: backup.size,
        status: 'creating',
        availability_zone: deps.availabilityZone,
        created_at: now(),
        updated_at: null,
        volume_type_id: DEFAULT_VOLUME_TYPE.id,
        volume_type_name: DEFAULT_VOLUME_TYPE.name,
        snapshot_id: null,
        source_volid: null,
        backup_id: null,
        bootable: false,
        metadata: {},
        host: deps.host,
      };
      await reserveVolume(deps, ctx.projectId, backup.size, DEFAULT_VOLUME_TYPE.name);
      await createOrRelease(deps, volume);
      try {
        await deps.driver.createVolume(volume.id, backup.size * deps.bytesPerGiB);
      } catch (err) {
        await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'error', updated_at: now() }));
        deps.logger.error('volume create for restore failed', { volume: volume.id, err });
        throw new CinderError(400, `Invalid volume: Error while creating volume ${volume.id} for restoring backup ${backup.id}.`);
      }
      volumeIsNew = true;
    }
    const backupClaim = await records.claim<BackupRecord>(BACKUPS, backup, (cur) => (cur.status === 'available' ? { ...cur, status: 'restoring', host: deps.host, updated_at: now() } : undefined));
    if (backupClaim?.status !== 'restoring') throw new CinderError(400, 'Invalid backup: Backup status must be available');
    const expected = volumeIsNew ? 'creating' : 'available';
    const volumeClaim = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === expected ? { ...cur, status: 'restoring-backup', updated_at: now() } : undefined));
    if (volumeClaim?.status !== 'restoring-backup') {
      await records.update<BackupRecord>(BACKUPS, backup, (cur) => ({ ...cur, status: 'available' }));
      throw new CinderError(400, 'Invalid volume: Volume to be restored to must be available');
    }
    deps.worker.start(`restore backup ${backup.id}`, () => restoreBackupTask(deps, ctx, backup, volume, volumeIsNew));
    return { status: 202, body: { restore: { backup_id: backup.id, volume_id: volume.id, volume_name: volume.name } } };
  };

  return [
    { method: 'POST', path: '/backups', auth: 'token', handler: create },
    { method: 'GET', path: '/backups', auth: 'token', handler: list(false) },
    { method: 'GET', path: '/backups/detail', auth: 'token', handler: list(true) },
    { method: 'GET', path: '/backups/{backup_id}', auth: 'token', handler: show },
    { method: 'PUT', path: '/backups/{backup_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/backups/{backup_id}', auth: 'token', handler: remove },
    { method: 'POST', path: '/backups/{backup_id}/restore', auth: 'token', handler: restore },
    { method: 'POST', path: '/backups/{backup_id}/action', auth: 'token', handler: (req) => backupAdminAction(deps, req) },
  ];
}

/**
 * The backup manager's delete of a backup already `deleting`, through `engine` (over the
 * account holding its objects): the objects, the record, the quota, the parent's count of
 * dependents; `error_deleting` when the objects cannot go. Also what a restart resumes.
 */
export async function deleteBackupTask(deps: VolumeApiDeps, engine: ChunkedBackupEngine, backup: BackupRecord): Promise<void> {
  const { records } = deps;
  try {
    if (backup.container !== null && backup.service_metadata !== null) await engine.delete({ container: backup.container, serviceMetadata: backup.service_metadata });
  } catch (err) {
    deps.logger.error('backup delete failed', { backup: backup.id, err });
    await records.update<BackupRecord>(BACKUPS, backup, (cur) => ({ ...cur, status: 'error_deleting', updated_at: cinderTime(deps.clock.now()) }));
    return;
  }
  await records.remove(BACKUPS, backup);
  await deps.quotas.release(backup.project_id, backupQuotaDeltas(backup.size));
  if (backup.parent_id !== null) {
    const parent = await records.find<BackupRecord>(BACKUPS, backup.parent_id, backup.project_id, false);
    if (parent) await records.update<BackupRecord>(BACKUPS, parent, (cur) => ({ ...cur, num_dependent_backups: Math.max(0, cur.num_dependent_backups - 1) }));
  }
}

/** What a backup holds of its project's quotas. */
function backupQuotaDeltas(size: number): Record<string, number> {
  return { backups: 1, backup_gigabytes: size };
}
