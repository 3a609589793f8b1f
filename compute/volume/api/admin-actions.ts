import { type AttachmentRecord, ATTACHMENTS, type BackupRecord, BACKUPS, type SnapshotRecord, SNAPSHOTS, type VolumeRecord, VOLUMES } from '../records.ts';
import { deleteBackupTask } from './backups.ts';
import { CinderError } from './cinder-error.ts';
import { forbidden as policyForbidden } from './forbidden.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { findOwned } from './input.ts';
import type { VolumeRequest, VolumeResponse } from './request.ts';
import { deleteSnapshotTask } from './snapshots.ts';
import { cinderTime } from './views.ts';
import { deleteVolumeTask } from './volumes.ts';

/**
 * Cinder's admin actions (cinder/api/contrib/admin_actions.py) on volumes, snapshots and
 * backups: `os-reset_status` (an operator's way out of a status no task will move any more),
 * `os-force_delete` (a delete without the status check) and, on volumes, `os-force_detach`. Default policy: admin only
 * (`rule:admin_api`), a 403 naming the policy otherwise. As in Cinder, the body is checked
 * first (its schema: a 400), then the resource is found (a 404 for one the caller cannot see),
 * then the policy.
 */

/** Cinder's VolumeStatus.ALL, SnapshotStatus.ALL, VolumeMigrationStatus.ALL (cinder/objects/fields.py), in its order. */
const VOLUME_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', 'attaching', 'in-use', 'detaching', 'maintenance', 'restoring-backup', 'error_restoring', 'reserved', 'awaiting-transfer', 'backing-up', 'error_backing-up', 'error_extending', 'downloading', 'uploading', 'retyping', 'extending'];
const ATTACH_STATUSES = ['attached', 'detached'];
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting'];
const SNAPSHOT_STATUSES = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', 'unmanaging', 'backing-up', 'restoring'];
const BACKUP_STATUSES = ['available', 'error'];

function forbidden(resource: 'volume' | 'snapshot' | 'backup', action: string): CinderError {
  return policyForbidden(`volume_extension:${resource}_admin_actions:${action}`);
}

/** Python's repr of a tuple (`('a', 'b')`) or list (`['a', 'b']`) of strings, as Cinder's messages print them. */
function pyList(items: readonly string[], tuple: boolean): string {
  const inner = items.map((s) => `'${s}'`).join(', ');
  return tuple ? `(${inner})` : `[${inner}]`;
}

/** A status field as the schema takes it: a string (or null where allowed), lower-cased. @throws 400 */
function statusField(args: Record<string, unknown>, key: string, nullable: boolean): string | undefined {
  const v = args[key];
  if (v === undefined || (nullable && v === null)) return undefined;
  if (typeof v !== 'string') throw new CinderError(400, `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type ${nullable ? "'string', 'null'" : "'string'"}`);
  return v === '' ? undefined : v;
}

/** The action's arguments: an object with only `allowed` keys (the schema's additionalProperties). @throws 400 */
function actionArgs(req: VolumeRequest, action: string, allowed: readonly string[]): Record<string, unknown> {
  const args = (req.body as Record<string, unknown>)[action];
  if (!args || typeof args !== 'object' || Array.isArray(args)) throw new CinderError(400, `Invalid input for field/attribute ${action}. Value: ${JSON.stringify(args ?? null)}. ${JSON.stringify(args ?? null)} is not of type 'object'`);
  const extra = Object.keys(args).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new CinderError(400, `Invalid input for field/attribute ${action}. Value: ${JSON.stringify(args)}. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  return args as Record<string, unknown>;
}

/** `os-force_delete` takes anything as its value, and nothing beside it. @throws 400 */
function forceDeleteBody(req: VolumeRequest): void {
  const extra = Object.keys(req.body as Record<string, unknown>).filter((k) => k !== 'os-force_delete');
  if (extra.length > 0) throw new CinderError(400, `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
}

/** The volume admin actions; undefined when `action` is not one of them. */
export async function volumeAdminAction(deps: VolumeApiDeps, req: VolumeRequest, action: string, volumeId: string): Promise<VolumeResponse | undefined> {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  if (action === 'os-reset_status') {
    const args = actionArgs(req, action, ['status', 'attach_status', 'migration_status']);
    const status = statusField(args, 'status', true)?.toLowerCase();
    const attachStatus = statusField(args, 'attach_status', true)?.toLowerCase();
    const migrationStatus = statusField(args, 'migration_status', true)?.toLowerCase();
    if (!status && !attachStatus && !migrationStatus) throw new CinderError(400, "Must specify 'status', 'attach_status' or 'migration_status' for update.");
    if (status && !VOLUME_STATUSES.includes(status)) throw new CinderError(400, `Volume status: ${args['status']} is invalid, valid statuses are: ${pyList(VOLUME_STATUSES, true)}.`);
    if (attachStatus && !ATTACH_STATUSES.includes(attachStatus)) throw new CinderError(400, `Volume attach status: ${args['attach_status']} is invalid, valid statuses are: ${pyList(ATTACH_STATUSES, false)}.`);
    if (migrationStatus && !MIGRATION_STATUSES.includes(migrationStatus)) throw new CinderError(400, `Volume migration status: ${args['migration_status']} is invalid, valid statuses are: ${pyList(MIGRATION_STATUSES, true)}.`);
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (!contextOf(req).isAdmin) throw forbidden('volume', 'reset_status');
    // Cinder refuses `deleting` only: its list reads ('deleting', 'error_deleting' 'detaching'),
    // two strings Python joins into one that no status equals.
    if (status === 'deleting') throw new CinderError(400, `Cannot reset-state to ${status}`);
    const attachments = (await records.list<AttachmentRecord>(ATTACHMENTS, volume.project_id)).filter((a) => a.volume_id === volume.id);
    if (status === 'in-use' && attachments.length === 0) throw new CinderError(400, 'Cannot reset-state to in-use because volume does not have any attachments.');
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({
      ...cur,
      ...(status ? { status } : {}),
      ...(attachStatus ? { attach_status: attachStatus } : {}),
      ...(migrationStatus ? { migration_status: migrationStatus === 'none' ? null : migrationStatus } : {}),
      updated_at: now(),
    }));
    if (attachStatus === 'detached' && attachments.length > 0) await detach(deps, volume, attachments);
    deps.logger.info('volume status reset', { volume: volume.id, from: volume.status, status, attach_status: attachStatus, migration_status: migrationStatus, by: contextOf(req).userId });
    return { status: 202 };
  }
  if (action === 'os-force_detach') {
    // Rolls back a detach whose disconnection already happened (or never will): Cinder's
    // terminate_connection and detach_volume, which leave the host's side alone.
    const args = actionArgs(req, action, ['connector', 'attachment_id']);
    const attachmentId = args['attachment_id'];
    if (attachmentId !== undefined && attachmentId !== null && typeof attachmentId !== 'string') throw new CinderError(400, `Invalid input for field/attribute attachment_id. Value: ${JSON.stringify(attachmentId)}. ${JSON.stringify(attachmentId)} is not of type 'string', 'null'`);
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (!contextOf(req).isAdmin) throw forbidden('volume', 'force_detach');
    const attachments = (await records.list<AttachmentRecord>(ATTACHMENTS, volume.project_id)).filter((a) => a.volume_id === volume.id);
    if (!attachmentId && attachments.length > 1) throw new CinderError(400, 'Error force detaching volume - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.');
    // An attachment id that is not the volume's detaches nothing, and the statuses are set from what is left.
    await detach(deps, volume, attachmentId ? attachments.filter((a) => a.id === attachmentId) : attachments);
    deps.logger.info('volume force-detached', { volume: volume.id, attachment: attachmentId ?? null, by: contextOf(req).userId });
    return { status: 202 };
  }
  if (action === 'os-force_delete') {
    forceDeleteBody(req);
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (!contextOf(req).isAdmin) throw forbidden('volume', 'force_delete');
    const snapshots = (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id);
    // volume/api.py delete(force=True): any status, but not attached and without snapshots.
    const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.attach_status === 'attached' || snapshots.length > 0 ? undefined : { ...cur, status: 'deleting', updated_at: now() }));
    if (!claimed) throw new CinderError(400, 'Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.');
    deps.logger.info('volume force-deleted', { volume: volume.id, from: volume.status, by: contextOf(req).userId });
    deps.worker.start(`force delete volume ${volume.id}`, () => deleteVolumeTask(deps, claimed));
    return { status: 202 };
  }
  return undefined;
}

/**
 * Cinder's volume_detached for each of `gone`: the attachment rows go, the volume lists the
 * rest, and a volume left with none is `detached` and `available` (unless it is uploading or
 * migrating, which keep their status).
 */
async function detach(deps: VolumeApiDeps, volume: VolumeRecord, gone: readonly AttachmentRecord[]): Promise<void> {
  for (const a of gone) await deps.records.remove(ATTACHMENTS, a);
  const ids = new Set(gone.map((a) => a.id));
  await deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => {
    const left = (cur.attachments ?? []).filter((a) => !ids.has(a.attachment_id));
    if (left.length > 0) return { ...cur, attachments: left, updated_at: cinderTime(deps.clock.now()) };
    const migrating = cur.migration_status != null && cur.migration_status !== 'success' && cur.migration_status !== 'error';
    return { ...cur, attach_status: 'detached', attachments: [], ...(!migrating && cur.status !== 'uploading' ? { status: 'available' } : {}), updated_at: cinderTime(deps.clock.now()) };
  });
}

/** The snapshot admin actions (`POST /snapshots/{id}/action`). */
export async function snapshotAdminAction(deps: VolumeApiDeps, req: VolumeRequest): Promise<VolumeResponse> {
  const { records } = deps;
  const action = actionName(req);
  const snapshotId = req.params['snapshot_id'] as string;
  if (action === 'os-reset_status') return resetStatus(deps, req, { kind: SNAPSHOTS, resource: 'snapshot', id: snapshotId, statuses: SNAPSHOT_STATUSES, asTuple: true });
  if (action === 'os-force_delete') {
    forceDeleteBody(req);
    const snapshot = await findOwned<SnapshotRecord>(records, SNAPSHOTS, req, snapshotId, 'Snapshot');
    if (!contextOf(req).isAdmin) throw forbidden('snapshot', 'force_delete');
    const claimed = await records.claim<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => ({ ...cur, status: 'deleting', updated_at: cinderTime(deps.clock.now()) }));
    if (!claimed) throw new CinderError(404, `Snapshot ${snapshotId} could not be found.`);
    deps.logger.info('snapshot force-deleted', { snapshot: snapshot.id, from: snapshot.status, by: contextOf(req).userId });
    deps.worker.start(`force delete snapshot ${snapshot.id}`, () => deleteSnapshotTask(deps, claimed));
    return { status: 202 };
  }
  throw new CinderError(400, `There is no such action: ${action ?? 'None'}`);
}

/** The backup admin actions (`POST /backups/{id}/action`). */
export async function backupAdminAction(deps: VolumeApiDeps, req: VolumeRequest): Promise<VolumeResponse> {
  const { records } = deps;
  const action = actionName(req);
  const backupId = req.params['backup_id'] as string;
  // Cinder's validator lists backup statuses as a Python list, snapshot statuses as a tuple.
  if (action === 'os-reset_status') return resetStatus(deps, req, { kind: BACKUPS, resource: 'backup', id: backupId, statuses: BACKUP_STATUSES, asTuple: false });
  if (action === 'os-force_delete') {
    forceDeleteBody(req);
    const backup = await findOwned<BackupRecord>(records, BACKUPS, req, backupId, 'Backup');
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('backup', 'force_delete');
    // backup/api.py delete(force=True): any status, but still not one an incremental builds on.
    let refused = false;
    const claimed = await records.claim<BackupRecord>(BACKUPS, backup, (cur) => {
      refused = cur.num_dependent_backups > 0;
      return refused ? undefined : { ...cur, status: 'deleting', host: deps.host, updated_at: cinderTime(deps.clock.now()) };
    });
    if (refused) throw new CinderError(400, 'Invalid backup: Incremental backups exist for this backup.');
    if (!claimed) throw new CinderError(404, `Backup ${backupId} could not be found.`);
    deps.logger.info('backup force-deleted', { backup: backup.id, from: backup.status, by: ctx.userId });
    deps.worker.start(`force delete backup ${backup.id}`, () => deleteBackupTask(deps, deps.backupEngine(ctx, claimed.account_project ?? claimed.project_id), claimed));
    return { status: 202 };
  }
  throw new CinderError(400, `There is no such action: ${action ?? 'None'}`);
}

function actionName(req: VolumeRequest): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? Object.keys(body)[0] : undefined;
}

/**
 * `{"os-reset_status": {"status": ...}}` on a snapshot or backup: `status` required, one of
 * `statuses` (any case), then the record (404), then the policy; the status is written as is.
 */
async function resetStatus(
  deps: VolumeApiDeps,
  req: VolumeRequest,
  target: { kind: typeof SNAPSHOTS | typeof BACKUPS; resource: 'snapshot' | 'backup'; id: string; statuses: readonly string[]; asTuple: boolean },
): Promise<VolumeResponse> {
  const action = 'os-reset_status';
  const args = actionArgs(req, action, ['status']);
  if (args['status'] === undefined) throw new CinderError(400, `Invalid input for field/attribute ${action}. Value: ${JSON.stringify(args)}. 'status' is a required property`);
  const given = statusField(args, 'status', false) ?? '';
  const status = given.toLowerCase();
  const What = target.resource === 'snapshot' ? 'Snapshot' : 'Backup';
  if (!target.statuses.includes(status)) throw new CinderError(400, `${What} status: ${given} is invalid, valid statuses are: ${pyList(target.statuses, target.asTuple)}.`);
  const found = await findOwned<SnapshotRecord | BackupRecord>(deps.records, target.kind, req, target.id, What);
  if (!contextOf(req).isAdmin) throw forbidden(target.resource, 'reset_status');
  await deps.records.update<SnapshotRecord | BackupRecord>(target.kind, found, (cur) => ({ ...cur, status, updated_at: cinderTime(deps.clock.now()) }));
  deps.logger.info(`${target.resource} status reset`, { [target.resource]: found.id, from: found.status, status, by: contextOf(req).userId });
  return { status: 202 };
}
