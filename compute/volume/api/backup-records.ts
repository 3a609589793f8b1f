import { type BackupRecord, BACKUPS } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { forbidden } from './forbidden.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { findOwned } from './input.ts';
import { reserveOrRefuse } from './over-quota.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { backupSummary, cinderTime } from './views.ts';

/** The backup driver's name in an exported record (Cinder's `backup.service`). */
export const BACKUP_SERVICE = 'cinder.backup.drivers.swift.SwiftBackupDriver';
/** The volume id of an imported backup (cinder/backup/api.py IMPORT_VOLUME_ID). */
const IMPORT_VOLUME_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Backup export and import (cinder/api/contrib/backups.py, backup/api.py, objects/backup.py
 * encode_record): an admin exports an available backup's record as base64 JSON of its fields
 * (`backup_url`) and imports it again (into the caller's project, keeping its id) after its
 * record was lost, e.g. with the database of another cloud. The objects stay where they are:
 * the record says whose account holds them (`account_project`), and restores read them there.
 */
export function backupRecordRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;

  const exportRecord = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('backup:export-import');
    const backup = await findOwned<BackupRecord>(records, BACKUPS, req, req.params['backup_id'] as string, 'Backup');
    if (backup.status !== 'available') throw new CinderError(400, `Invalid backup: Backup status must be available and not ${backup.status}.`);
    const fields: Record<string, unknown> = {
      id: backup.id,
      user_id: backup.user_id,
      project_id: backup.account_project ?? backup.project_id,
      volume_id: backup.volume_id,
      host: deps.host,
      availability_zone: backup.availability_zone,
      container: backup.container,
      parent_id: backup.parent_id,
      status: backup.status,
      fail_reason: backup.fail_reason,
      size: backup.size,
      display_name: backup.name,
      display_description: backup.description,
      service_metadata: backup.service_metadata,
      service: BACKUP_SERVICE,
      object_count: backup.object_count,
      num_dependent_backups: backup.num_dependent_backups,
      snapshot_id: backup.snapshot_id,
      data_timestamp: backup.data_timestamp,
      metadata: {},
      driver_info: {},
    };
    return { status: 200, body: { 'backup-record': { backup_service: BACKUP_SERVICE, backup_url: Buffer.from(JSON.stringify(fields)).toString('base64') } } };
  };

  const importRecord = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('backup:backup-import');
    const body = req.body as Record<string, unknown> | undefined;
    const record = body && typeof body === 'object' ? (body['backup-record'] as Record<string, unknown> | undefined) : undefined;
    if (!record || typeof record !== 'object') throw new CinderError(400, "Invalid input for field/attribute backup-record. Value: None. 'backup-record' is a required property");
    for (const key of ['backup_service', 'backup_url']) {
      if (typeof record[key] !== 'string' || (record[key] as string).length === 0) throw new CinderError(400, `Invalid input for field/attribute backup-record. Value: ${JSON.stringify(record)}. '${key}' is a required property`);
    }
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(Buffer.from(record['backup_url'] as string, 'base64').toString('utf8')) as Record<string, unknown>;
      if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new Error('not an object');
    } catch {
      throw new CinderError(400, "Invalid input received: Can't parse backup record.");
    }
    if (typeof fields['id'] !== 'string') throw new CinderError(400, 'Invalid input received: Provided backup record is missing an id');
    if (typeof fields['size'] !== 'number') throw new CinderError(400, 'Invalid input received: Provided backup record is missing size attribute');
    if (record['backup_service'] !== BACKUP_SERVICE || fields['service'] !== BACKUP_SERVICE) throw new CinderError(503, `Service ${String(record['backup_service'])} could not be found.`);
    if (typeof fields['container'] !== 'string' || typeof fields['service_metadata'] !== 'string') throw new CinderError(400, 'Invalid backup: Driver successfully decoded imported backup data, but there are missing fields.');
    const id = fields['id'];
    if (await records.find<BackupRecord>(BACKUPS, id, ctx.projectId, true)) throw new CinderError(400, 'Invalid backup: Backup already exists in database.');
    const size = fields['size'];
    const held = { backups: 1, backup_gigabytes: size };
    await reserveOrRefuse(() => deps.quotas.reserve(ctx.projectId, held), 'backups', size);
    const now = cinderTime(deps.clock.now());
    const str = (key: string): string | null => (typeof fields[key] === 'string' ? (fields[key] as string) : null);
    const backup: BackupRecord = {
      id,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      volume_id: IMPORT_VOLUME_ID,
      snapshot_id: str('snapshot_id'),
      name: str('display_name'),
      description: str('display_description'),
      size,
      status: 'available',
      fail_reason: null,
      availability_zone: str('availability_zone') ?? deps.availabilityZone,
      created_at: now,
      updated_at: now,
      data_timestamp: str('data_timestamp') ?? now,
      container: fields['container'] as string,
      service_metadata: fields['service_metadata'] as string,
      object_count: typeof fields['object_count'] === 'number' ? fields['object_count'] : 0,
      parent_id: str('parent_id'),
      is_incremental: str('parent_id') !== null,
      num_dependent_backups: 0,
      account_project: str('project_id') ?? ctx.projectId,
    };
    try {
      await records.create(BACKUPS, backup);
    } catch (err) {
      await deps.quotas.release(ctx.projectId, held);
      throw err;
    }
    return { status: 201, body: { backup: backupSummary(req, backup) } };
  };

  return [
    { method: 'GET', path: '/backups/{backup_id}/export_record', auth: 'token', handler: exportRecord },
    { method: 'POST', path: '/backups/import_record', auth: 'token', handler: importRecord },
  ];
}
