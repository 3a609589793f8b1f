import { type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, parseBool } from './input.ts';
import { atLeast } from './microversion.ts';
import type { VolumeRequest, VolumeResponse } from './request.ts';
import { uploadedImageProperties, volumeBytes } from './volume-image.ts';
import { cinderTime, typeNameOf } from './views.ts';

const DISK_FORMATS = ['raw', 'vmdk', 'vdi', 'qcow2', 'vhd', 'vhdx', 'ploop'];
const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'compressed'];
const VISIBILITIES = ['community', 'public', 'private', 'shared'];

/**
 * `os-volume_upload_image` (cinder/api/contrib/volume_actions.py, volume/api.py
 * copy_volume_to_image): the volume goes `uploading`, a new image is made in Glance with the
 * caller's token, and the volume manager's task sends the volume's bytes to it, then puts the
 * volume back to `available`. The answer is 202 with the image's id. Cinder's default
 * `enable_force_upload = False`, so `force` is read and ignored: only an `available` volume
 * uploads. Only `raw` is written as it is; another disk format would need a conversion this
 * service does not do, so it is refused before anything changes.
 */
export async function uploadToImage(deps: VolumeApiDeps, req: VolumeRequest, volume: VolumeRecord): Promise<VolumeResponse> {
  const ctx = contextOf(req);
  const args = bodyObject(req, 'os-volume_upload_image');
  const allowed = ['image_name', 'force', 'disk_format', 'container_format', ...(atLeast(req.version, '3.1') ? ['visibility', 'protected'] : [])];
  const invalid = (detail: string): CinderError => new CinderError(400, `Invalid input for field/attribute os-volume_upload_image. Value: ${JSON.stringify(args)}. ${detail}`);
  const extra = Object.keys(args).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw invalid(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const imageName = args['image_name'];
  if (imageName === undefined) throw invalid("'image_name' is a required property");
  if (typeof imageName !== 'string' || imageName.length < 1 || imageName.length > 255) throw invalid(`${JSON.stringify(imageName)} is not a valid image name`);
  if (args['force'] !== undefined) parseBool(args['force'], 'force');
  const diskFormat = (args['disk_format'] as string | undefined) ?? 'raw';
  if (!DISK_FORMATS.includes(diskFormat)) throw invalid(`'${String(diskFormat)}' is not one of ${JSON.stringify(DISK_FORMATS).replace(/"/g, "'")}`);
  const containerFormat = (args['container_format'] as string | undefined) ?? 'bare';
  if (!CONTAINER_FORMATS.includes(containerFormat)) throw invalid(`'${String(containerFormat)}' is not one of ${JSON.stringify(CONTAINER_FORMATS).replace(/"/g, "'")}`);
  const fields: Record<string, unknown> = { name: imageName, disk_format: diskFormat, container_format: containerFormat };
  if (atLeast(req.version, '3.1')) {
    const visibility = (args['visibility'] as string | undefined) ?? 'private';
    if (!VISIBILITIES.includes(visibility)) throw invalid(`'${String(visibility)}' is not one of ${JSON.stringify(VISIBILITIES).replace(/"/g, "'")}`);
    fields['visibility'] = visibility;
    fields['protected'] = args['protected'] === undefined ? false : parseBool(args['protected'], 'protected');
  }
  if (diskFormat !== 'raw' || containerFormat !== 'bare') throw new CinderError(400, `Invalid volume: this volume service uploads raw/bare images only, not ${diskFormat}/${containerFormat}.`);
  if (!deps.images) throw new CinderError(400, 'Invalid volume: no image service is configured for uploads.');
  Object.assign(fields, uploadedImageProperties(volume.volume_image_metadata ?? {}, new Set(Object.keys(fields))));

  const now = (): string => cinderTime(deps.clock.now());
  const claimed = await deps.records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'available' ? { ...cur, status: 'uploading', updated_at: now() } : undefined));
  if (claimed?.status !== 'uploading') throw new CinderError(400, `Invalid volume: Volume ${volume.id} status must be available`);
  const putBack = () => deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'available', updated_at: now() }));
  let image: Awaited<ReturnType<NonNullable<VolumeApiDeps['images']>['create']>>;
  try {
    image = await deps.images.create(ctx.token, fields);
  } catch (err) {
    await putBack();
    throw new CinderError(400, (err as Error).message);
  }
  const images = deps.images;
  deps.worker.start(`upload volume ${volume.id} to image ${image.id}`, async () => {
    try {
      const file = await deps.driver.openVolume(volume.id, 'r');
      try {
        await images.upload(ctx.token, image.id, { disk_format: diskFormat, container_format: containerFormat }, volumeBytes(file));
      } finally {
        await file.close();
      }
    } catch (err) {
      // The manager deletes the half-made image and gives the volume back.
      deps.logger.error('upload to image failed', { volume: volume.id, image: image.id, err });
      await images.delete(ctx.token, image.id).catch(() => false);
    }
    await putBack();
  });
  const response: Record<string, unknown> = {
    id: volume.id,
    updated_at: claimed.updated_at,
    status: 'uploading',
    display_description: volume.description,
    size: volume.size,
    volume_type: { id: volume.volume_type_id, name: typeNameOf(volume) },
    image_id: image.id,
    container_format: image.container_format ?? containerFormat,
    disk_format: image.disk_format ?? diskFormat,
    image_name: image.name ?? null,
  };
  if ('protected' in image) response['protected'] = image['protected'];
  if ('visibility' in image) response['visibility'] = image['visibility'];
  return { status: 202, body: { 'os-volume_upload_image': response } };
}
