import { atLeast } from '../api-version.ts';
import { badRequest, invalidState } from '../errors.ts';
import type { ImageApi } from '../image-api.ts';
import { recordAction } from '../instance-actions.ts';
import { type ComputeRequest, type ComputeResponse, contextOf, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { enqueue } from '../work-queue.ts';
import { bodyMember, fieldError, integerParam, nameParam, pyRepr } from '../validation.ts';
import { metadataParam } from './metadata-param.ts';
import { checkInstanceState } from './instance-state.ts';
import { claimImageTask, createSnapshotImage } from './snapshot-image.ts';

const BACKUP_FROM: readonly VmState[] = ['active', 'stopped', 'paused', 'suspended'];

/**
 * `createBackup` (`openstack server backup create --type daily --rotation 2`), as Nova's: a
 * snapshot image of `image_type` `backup` with its `backup_type`, the server at `image_backup`
 * until its host uploaded the disk; the host then deletes the server's oldest backups of that
 * type past `rotation` (`_rotate_backups`). Not for a volume-backed server (400). 202 with the
 * image in `Location` before 2.45 (none with rotation 0), `{"image_id"}` from it.
 */
export async function createBackup(d: { readonly store: ComputeStore; readonly images: ImageApi; readonly imageUrl: string }, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const { store, images } = d;
  const c = contextOf(req);
  const body = bodyMember({ createBackup: arg }, 'createBackup', ['name', 'backup_type', 'rotation', 'metadata'], ['name', 'backup_type', 'rotation']);
  const name = nameParam('name', body['name']);
  const backupType = body['backup_type'];
  if (typeof backupType !== 'string') throw fieldError('backup_type', backupType, `${pyRepr(backupType)} is not of type 'string'`);
  // `parameter_types.non_negative_integer`: no maximum.
  const rotation = integerParam('rotation', body['rotation'], 0, Number.POSITIVE_INFINITY);
  const metadata = body['metadata'] === undefined ? {} : metadataParam('metadata', body['metadata']);
  checkInstanceState(s, 'createBackup', BACKUP_FROM);
  if (s.volume_backed) throw badRequest('Backup is not supported for volume-backed instances');
  if (s.host === null) throw invalidState(s.uuid, 'createBackup', 'vm_state', s.vm_state);
  const token = req.headers['x-auth-token'] ?? '';
  const image = await createSnapshotImage(images, token, { name, visibility: 'private', min_disk: s.flavor.disk, min_ram: 0, instance_uuid: s.uuid, user_id: c.userId, image_type: 'backup', backup_type: backupType, base_image_ref: s.image_ref, ...metadata }, undefined);
  await claimImageTask(d, token, s.uuid, 'createBackup', 'image_backup', image.id);
  await recordAction(store, c, s.uuid, 'createBackup', req.requestId);
  await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'backup', token, requestId: req.requestId, imageId: image.id, backupType, rotation });
  if (atLeast(req.version, '2.45')) return ok({ image_id: image.id }, 202);
  return { status: 202, ...(rotation > 0 ? { headers: { Location: `${d.imageUrl.replace(/\/+$/, '')}/v2/images/${image.id}` } } : {}) };
}
