import { OverQuota, withTypeQuotas } from '../quota.ts';
import { volumeAdminAction } from './admin-actions.ts';
import { type BackupRecord, BACKUPS, type SnapshotRecord, SNAPSHOTS, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf, listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, metadataOf, optionalString, page, parseBool, parseSize } from './input.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { reserveOrRefuse, sizeExceedsLimit } from './over-quota.ts';
import { restoreBackupTask } from './restore-task.ts';
import { revertToSnapshot } from './revert-to-snapshot.ts';
import { dropOrphanCopy, volumeFromSnapshot } from './snapshot-tasks.ts';
import { copyVolumeData } from './clone-volume.ts';
import { uploadToImage } from './volume-upload.ts';
import { retypeVolume } from './retype.ts';
import { typeNotFound } from './type-not-found.ts';
import { refuseEncryptedType } from './no-key-manager.ts';
import { volumeMetadataAction } from './volume-metadata-actions.ts';
import { checkImageMetadata, copyImageToVolume, resolveImage, volumeImageMetadata } from './volume-image.ts';
import type { GlanceImage } from '../../image-api.ts';
import { typeVisibleTo } from '../volume-types.ts';
import { cinderTime, DEFAULT_VOLUME_TYPE, typeNameOf, volumeDetail, volumeSummary } from './views.ts';


/** Statuses a volume may be deleted from (cinder/volume/api.py delete, without force). */
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

/**
 * Cinder's volumes API (cinder/api/v3/volumes.py, contrib/volume_actions.py): create (empty,
 * from a snapshot, from a backup at 3.47), list, detail, show, update, delete, and the
 * `os-extend`, `os-set_bootable`, `os-begin_detaching` and `os-roll_detaching` (Nova's
 * detach) actions. Work on the host runs as a task; the answer is 202 with the volume
 * `creating` (or `extending`, `deleting`), as Cinder's is.
 */
export function volumeRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;
  const find = (req: VolumeRequest, id: string) => findOwned<VolumeRecord>(records, VOLUMES, req, id, 'Volume');

  const setStatus = (v: VolumeRecord, status: string, extra: Partial<VolumeRecord> = {}) =>
    records.update<VolumeRecord>(VOLUMES, v, (cur) => ({ ...cur, ...extra, status, updated_at: cinderTime(deps.clock.now()) }));

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const body = bodyObject(req, 'volume');
    let size = parseSize(body['size']);
    const snapshotId = optionalString(body, 'snapshot_id') ?? null;
    const backupId = atLeast(req.version, '3.47') ? (optionalString(body, 'backup_id') ?? null) : null;
    const az = optionalString(body, 'availability_zone') ?? deps.availabilityZone;
    if (az !== deps.availabilityZone) throw new CinderError(400, `Invalid input received: Availability zone '${az}' is invalid.`);
    const type = optionalString(body, 'volume_type');
    const sourceVolid = optionalString(body, 'source_volid') ?? null;
    // A clone: the source's own (the caller's, or any for an admin), `available` or `in-use`.
    const source = sourceVolid === null ? undefined : await findOwned<VolumeRecord>(records, VOLUMES, req, sourceVolid, 'Volume');
    if (source && source.status !== 'available' && source.status !== 'in-use') throw new CinderError(400, 'Invalid volume: Unable to create a volume from an originating source volume when its status is not one of available, in-use values');
    // Cinder's get_by_name_or_id; no type asked: the source's type for a clone, else the default type.
    const volumeType = type == null ? await deps.types.get(source?.volume_type_id ?? DEFAULT_VOLUME_TYPE.id) : await deps.types.byNameOrId(type);
    if (!volumeType || !typeVisibleTo(volumeType, ctx.projectId, ctx.isAdmin)) throw typeNotFound(type);
    let snapshot: SnapshotRecord | undefined;
    let backup: BackupRecord | undefined;
    let image: GlanceImage | undefined;
    let bootable = false;
    // v3 takes `image_id` as another name for `imageRef`.
    const imageRef = body['imageRef'] ?? body['image_id'];
    // utils.check_exclusive_options: one source at most.
    if ([snapshotId, imageRef ?? null, sourceVolid, backupId].filter((x) => x !== null).length > 1) throw new CinderError(400, 'Invalid input received: May specify only one of backup, imageRef, snapshot, source volume');
    if (source) {
      size ??= source.size;
      if (size < source.size) throw new CinderError(400, `Invalid input received: Volume size ${size}GB cannot be smaller than original volume size  ${source.size}GB. They must be >= original volume size.`);
      bootable = source.bootable;
    } else if (snapshotId !== null) {
      snapshot = await findOwned<SnapshotRecord>(records, SNAPSHOTS, req, snapshotId, 'Snapshot');
      if (snapshot.status !== 'available') throw new CinderError(400, "Invalid snapshot: Originating snapshot status must be one of 'available' values");
      size ??= snapshot.size;
      if (size < snapshot.size) throw new CinderError(400, `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.size}GB. They must be >= original snapshot size.`);
      const source = await records.find<VolumeRecord>(VOLUMES, snapshot.volume_id, snapshot.project_id, false);
      bootable = source?.bootable ?? false;
    } else if (backupId !== null) {
      backup = await findOwned<BackupRecord>(records, BACKUPS, req, backupId, 'Backup');
      if (backup.status !== 'available') throw new CinderError(400, `Invalid backup: Backup status must be available and not ${backup.status}.`);
      size ??= backup.size;
      if (size < backup.size) throw new CinderError(400, `Invalid input received: Volume size ${size}GB cannot be smaller than the backup size ${backup.size}GB. It must be >= backup size.`);
    }
    if (size === undefined) throw new CinderError(400, 'Invalid input received: Invalid volume size provided for create request: None (size argument must be an integer (or string representation of an integer) and greater than zero).');
    if (imageRef != null && !snapshot && !backup && !source) {
      image = await resolveImage(deps, ctx, imageRef);
      checkImageMetadata(image, size);
    }
    refuseEncryptedType(volumeType);
    await reserveVolume(deps, ctx.projectId, size, volumeType.name);
    const now = cinderTime(deps.clock.now());
    const volume: VolumeRecord = {
      id: deps.newId(),
      project_id: ctx.projectId,
      user_id: ctx.userId,
      name: optionalString(body, 'name') ?? null,
      description: optionalString(body, 'description') ?? null,
      size,
      status: 'creating',
      availability_zone: az,
      created_at: now,
      updated_at: null,
      volume_type_id: volumeType.id,
      volume_type_name: volumeType.name,
      snapshot_id: snapshotId,
      source_volid: source?.id ?? null,
      backup_id: backupId,
      bootable,
      metadata: metadataOf(body['metadata']),
      host: deps.host,
      ...(image ? { volume_image_metadata: volumeImageMetadata(image) } : {}),
      // A clone carries its source's image metadata (the volume manager copies the glance metadata).
      ...(source?.volume_image_metadata ? { volume_image_metadata: source.volume_image_metadata } : {}),
    };
    await createOrRelease(deps, volume);
    deps.worker.start(`create volume ${volume.id}`, async () => {
      try {
        if (snapshot) await volumeFromSnapshot(deps, snapshot, volume.id, size * deps.bytesPerGiB);
        else await deps.driver.createVolume(volume.id, size * deps.bytesPerGiB);
        if (source) await copyVolumeData(deps, source.id, volume.id);
      } catch (err) {
        deps.logger.error('volume create failed', { volume: volume.id, err });
        await setStatus(volume, 'error');
        return;
      }
      if (image) {
        // The volume manager's copy from Glance: `downloading`, then bootable and available.
        await setStatus(volume, 'downloading');
        try {
          const file = await deps.driver.openVolume(volume.id, 'rw');
          try {
            await copyImageToVolume(deps, ctx, image, file);
          } finally {
            await file.close();
          }
        } catch (err) {
          deps.logger.error('volume create from image failed', { volume: volume.id, image: image.id, err });
          await setStatus(volume, 'error');
          return;
        }
        await setStatus(volume, 'available', { bootable: true });
        return;
      }
      if (!backup) {
        await setStatus(volume, 'available');
        return;
      }
      await setStatus(volume, 'restoring-backup');
      await restoreBackupTask(deps, ctx, backup, volume, true);
    });
    return { status: 202, body: { volume: volumeDetail(req, volume) } };
  };

  const list = (detail: boolean) => async (req: VolumeRequest): Promise<VolumeResponse> => {
    let rows = await records.list<VolumeRecord>(VOLUMES, listingProject(req));
    // user_id: what `volume list --user` sends (Cinder lets an admin filter on any field).
    for (const key of ['name', 'status', 'availability_zone', 'user_id'] as const) {
      const want = req.query.get(key);
      if (want !== null) rows = rows.filter((v) => v[key] === want);
    }
    const bootable = req.query.get('bootable');
    if (bootable !== null) rows = rows.filter((v) => v.bootable === parseBool(bootable, 'bootable'));
    const meta = req.query.get('metadata');
    if (meta !== null) {
      let wanted: Record<string, string>;
      try {
        wanted = metadataOf(JSON.parse(meta.replace(/'/g, '"')));
      } catch {
        throw new CinderError(400, `Invalid input received: Invalid filter metadata: ${meta}`);
      }
      rows = rows.filter((v) => Object.entries(wanted).every(([k, val]) => v.metadata[k] === val));
    }
    const count = rows.length;
    const shown = page(req, rows, (m) => `Invalid input received: marker [${m}] not found`);
    const body: Record<string, unknown> = { volumes: shown.map((v) => (detail ? volumeDetail(req, v) : volumeSummary(req, v))) };
    if (atLeast(req.version, '3.45') && req.query.get('with_count') !== null && parseBool(req.query.get('with_count'), 'with_count')) body['count'] = count;
    return { status: 200, body };
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => ({ status: 200, body: { volume: volumeDetail(req, await find(req, req.params['volume_id'] as string)) } });

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'volume');
    const volume = await find(req, req.params['volume_id'] as string);
    const name = optionalString(body, 'name') ?? optionalString(body, 'display_name');
    const description = optionalString(body, 'description') ?? optionalString(body, 'display_description');
    const metadata = body['metadata'] !== undefined ? metadataOf(body['metadata']) : undefined;
    const updated = await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({
      ...cur,
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      updated_at: cinderTime(deps.clock.now()),
    }));
    if (!updated) throw new CinderError(404, `Volume ${volume.id} could not be found.`);
    return { status: 200, body: { volume: volumeDetail(req, updated) } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const volume = await find(req, req.params['volume_id'] as string);
    const snapshots = (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id);
    let refused = false;
    const claimed = await records.update<VolumeRecord>(VOLUMES, volume, (cur) => {
      if (!DELETABLE.includes(cur.status) || snapshots.length > 0) {
        refused = true;
        return undefined;
      }
      return { ...cur, status: 'deleting', updated_at: cinderTime(deps.clock.now()) };
    });
    if (refused || !claimed) {
      throw new CinderError(400, `Invalid volume: Volume status must be ${DELETABLE.join(' or ')} and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`);
    }
    deps.worker.start(`delete volume ${volume.id}`, () => deleteVolumeTask(deps, claimed));
    return { status: 202 };
  };

  const action = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = req.body as Record<string, unknown> | undefined;
    const name = body && typeof body === 'object' ? Object.keys(body)[0] : undefined;
    const admin = name === undefined ? undefined : await volumeAdminAction(deps, req, name, req.params['volume_id'] as string);
    if (admin) return admin;
    const volume = await find(req, req.params['volume_id'] as string);
    const metadataAnswer = await volumeMetadataAction(deps, req, name, volume);
    if (metadataAnswer) return metadataAnswer;
    if (name === 'os-extend') {
      const args = bodyObject(req, 'os-extend');
      const newSize = Number(args['new_size']);
      if (!Number.isSafeInteger(newSize) || newSize <= 0) throw new CinderError(400, `Invalid input for field/attribute new_size. Value: ${String(args['new_size'])}.`);
      if (newSize <= volume.size) throw new CinderError(400, `Invalid input received: New size for extend must be greater than current size. (current: ${volume.size}, extended: ${newSize}).`);
      let status = '';
      const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => {
        status = cur.status;
        return cur.status === 'available' ? { ...cur, status: 'extending', updated_at: cinderTime(deps.clock.now()) } : undefined;
      });
      if (claimed?.status !== 'extending') throw new CinderError(400, `Invalid volume: Volume ${volume.id} status must be 'available' to extend, currently ${status}.`);
      // Cinder puts the status back when the quota refuses the new size.
      const increase = withTypeQuotas({ gigabytes: newSize - claimed.size }, typeNameOf(claimed));
      try {
        const perVolume = (await deps.quotas.limits(volume.project_id))['per_volume_gigabytes'] ?? -1;
        if (perVolume >= 0 && newSize > perVolume) throw sizeExceedsLimit(newSize, perVolume);
        await deps.quotas.reserve(volume.project_id, increase);
      } catch (err) {
        await setStatus(volume, 'available');
        if (err instanceof OverQuota) {
          const consumed = err.usages['gigabytes'] ?? 0;
          throw new CinderError(413, `Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${newSize - claimed.size}G, quota is ${err.quotas['gigabytes']}G and ${consumed}G has been consumed.`, { 'Retry-After': '0' });
        }
        throw err;
      }
      deps.worker.start(`extend volume ${volume.id}`, async () => {
        try {
          await deps.driver.extendVolume(volume.id, newSize * deps.bytesPerGiB);
        } catch (err) {
          deps.logger.error('volume extend failed', { volume: volume.id, err });
          await deps.quotas.release(volume.project_id, increase);
          await setStatus(volume, 'error_extending');
          return;
        }
        await setStatus(volume, 'available', { size: newSize });
      });
      return { status: 202 };
    }
    if (name === 'os-set_bootable') {
      const args = bodyObject(req, 'os-set_bootable');
      if (!('bootable' in args)) throw new CinderError(400, 'Must specify bootable in request.');
      const bootable = parseBool(args['bootable'], 'bootable');
      await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, bootable, updated_at: cinderTime(deps.clock.now()) }));
      return { status: 200 };
    }
    if (name === 'os-volume_upload_image') return uploadToImage(deps, req, volume);
    if (name === 'os-retype') return retypeVolume(deps, req, volume);
    if (name === 'revert' && atLeast(req.version, '3.40')) return revertToSnapshot(deps, req, volume);
    if (name === 'os-begin_detaching') {
      // Nova's detach starts here (volume/api.py begin_detaching: a conditional update).
      const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'in-use' && cur.attach_status === 'attached' ? { ...cur, status: 'detaching', updated_at: cinderTime(deps.clock.now()) } : undefined));
      if (!claimed) throw new CinderError(400, "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
      return { status: 202 };
    }
    if (name === 'os-roll_detaching') {
      await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'detaching' ? { ...cur, status: 'in-use', updated_at: cinderTime(deps.clock.now()) } : undefined));
      return { status: 202 };
    }
    throw new CinderError(400, `There is no such action: ${name ?? 'None'}`);
  };

  return [
    { method: 'POST', path: '/volumes', auth: 'token', handler: create },
    { method: 'GET', path: '/volumes', auth: 'token', handler: list(false) },
    { method: 'GET', path: '/volumes/detail', auth: 'token', handler: list(true) },
    { method: 'GET', path: '/volumes/{volume_id}', auth: 'token', handler: show },
    { method: 'PUT', path: '/volumes/{volume_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/volumes/{volume_id}', auth: 'token', handler: remove },
    { method: 'POST', path: '/volumes/{volume_id}/action', auth: 'token', handler: action },
  ];
}

/**
 * The volume manager's delete of a volume already `deleting`: its file, then its record, then
 * its quota; `error_deleting` when the file cannot go. Also what a restart resumes.
 */
export async function deleteVolumeTask(deps: VolumeApiDeps, volume: VolumeRecord): Promise<void> {
  let backing: string | undefined;
  try {
    const info = await deps.driver.getVolume(volume.id);
    if (info) {
      await deps.driver.deleteVolume(volume.id);
      backing = info.backingSnapshot;
    }
  } catch (err) {
    deps.logger.error('volume delete failed', { volume: volume.id, err });
    await deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'error_deleting', updated_at: cinderTime(deps.clock.now()) }));
    return;
  }
  await deps.records.remove(VOLUMES, volume);
  await deps.quotas.release(volume.project_id, volumeQuotaDeltas(volume.size, typeNameOf(volume)));
  // A copy left now is swept at the next start; the volume is gone either way.
  if (backing !== undefined) await dropOrphanCopy(deps, backing, volume.project_id).catch((err) => deps.logger.warn('snapshot copy not removed', { snapshot: backing, err }));
}

/** What a volume holds of its project's quotas (Cinder's reserve_opts plus its type's). */
export function volumeQuotaDeltas(size: number, typeName: string): Record<string, number> {
  return withTypeQuotas({ volumes: 1, gigabytes: size }, typeName);
}

/**
 * Cinder's QuotaReserveTask: the size against `per_volume_gigabytes`, then a reservation of
 * one volume and its GiB (`once`: made only once under that key, see VolumeQuotas.reserve).
 * @throws 413 as Cinder's, having reserved nothing.
 */
export async function reserveVolume(deps: VolumeApiDeps, projectId: string, size: number, typeName: string, once?: string): Promise<void> {
  const perVolume = (await deps.quotas.limits(projectId))['per_volume_gigabytes'] ?? -1;
  if (perVolume >= 0 && size > perVolume) throw sizeExceedsLimit(size, perVolume);
  await reserveOrRefuse(() => deps.quotas.reserve(projectId, volumeQuotaDeltas(size, typeName), once), 'volumes', size);
}

/** Writes a new volume's record; gives its reservation back if that fails. */
export async function createOrRelease(deps: VolumeApiDeps, volume: VolumeRecord): Promise<void> {
  try {
    await deps.records.create(VOLUMES, volume);
  } catch (err) {
    await deps.quotas.release(volume.project_id, volumeQuotaDeltas(volume.size, typeNameOf(volume)));
    throw err;
  }
}
