import { tmpdir } from 'node:os';
import type { GlanceImage } from '../../image-api.ts';
import { ServiceCallError } from '../../openstack-http.ts';
import type { VolumeFile } from '../driver/types.ts';
import { imageToRaw } from '../image-to-raw.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import type { VolumeContext } from './request.ts';

/** Bytes in Glance's GiB (an image's `size` is bytes; Cinder rounds it up to whole GiB). */
const GLANCE_GIB = 1024 * 1024 * 1024;

/** Glance v2's own image fields; every other field of an image is a property (Cinder's glance.py). */
const GLANCE_CORE_FIELDS = new Set(['id', 'name', 'status', 'visibility', 'protected', 'checksum', 'owner', 'size', 'virtual_size', 'min_disk', 'min_ram', 'container_format', 'disk_format', 'created_at', 'updated_at', 'deleted_at', 'deleted', 'tags', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'self', 'file', 'schema', 'direct_url', 'locations', 'stores']);

/** Cinder's `glance_core_properties` default: what an upload does not copy back as properties. */
const GLANCE_CORE_PROPERTIES = new Set(['checksum', 'container_format', 'disk_format', 'image_name', 'image_id', 'min_disk', 'min_ram', 'name', 'size']);

/** volume_utils.IMAGE_ATTRIBUTES: the image fields a volume made from it keeps. */
const IMAGE_ATTRIBUTES = ['checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size'] as const;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function invalidImage(): CinderError {
  return new CinderError(400, 'Invalid image identifier or unable to access requested image.');
}

/**
 * The image `imageRef` names, as the caller may see it (cinder/api/v3/volumes.py
 * `_image_uuid_from_ref`: the last path segment of a URL, then a Glance lookup with the
 * caller's token). Lookups by name are left to the client (openstackclient sends the ID).
 * @throws 400 "Invalid image identifier or unable to access requested image."
 */
export async function resolveImage(deps: VolumeApiDeps, ctx: VolumeContext, ref: unknown): Promise<GlanceImage> {
  if (typeof ref !== 'string') throw new CinderError(400, 'Invalid imageRef provided.');
  const id = ref.split('/').pop() ?? '';
  if (!deps.images || !UUID.test(id)) throw invalidImage();
  let image: GlanceImage | undefined;
  try {
    image = await deps.images.get(ctx.token, id);
  } catch (err) {
    deps.logger.warn('image lookup failed', { image: id, err });
  }
  if (!image) throw invalidImage();
  return image;
}

/** volume_utils.check_image_metadata: active, and fits the volume. @throws Cinder's 400 (InvalidInput) */
export function checkImageMetadata(image: GlanceImage, sizeGiB: number): void {
  if (image.status !== 'active') throw new CinderError(400, `Invalid input received: Image ${image.id} is not active.`);
  const imageGiB = Math.ceil((image.size ?? 0) / GLANCE_GIB);
  if (imageGiB > sizeGiB) throw new CinderError(400, `Invalid input received: Size of specified image ${imageGiB}GB is larger than volume size ${sizeGiB}GB.`);
  if (sizeGiB < (image.min_disk ?? 0)) throw new CinderError(400, `Invalid input received: Volume size ${sizeGiB}GB cannot be smaller than the image minDisk size ${image.min_disk}GB.`);
  const virtual = typeof image['virtual_size'] === 'number' ? (image['virtual_size'] as number) : 0;
  if (virtual > sizeGiB * GLANCE_GIB) throw new CinderError(400, `Image ${image.id} is unacceptable: Image virtual size is ${Math.ceil(virtual / GLANCE_GIB)}GB and doesn't fit in a volume of size ${sizeGiB}GB.`);
}

/**
 * volume_utils.get_volume_image_metadata: what a volume made from the image shows as
 * `volume_image_metadata` (the image's properties, its id, name and IMAGE_ATTRIBUTES), every
 * value a string as Cinder's volume_glance_metadata table keeps them.
 */
export function volumeImageMetadata(image: GlanceImage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(image)) {
    if (GLANCE_CORE_FIELDS.has(key) || value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  out['image_id'] = image.id;
  if (image.name) out['image_name'] = image.name;
  for (const key of IMAGE_ATTRIBUTES) {
    const value = image[key];
    if (value !== null && value !== undefined) out[key] = String(value);
  }
  return out;
}

/** The properties an image uploaded from a volume carries over from the volume's image metadata. */
export function uploadedImageProperties(meta: Readonly<Record<string, string>>, taken: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(meta).filter(([k]) => !GLANCE_CORE_PROPERTIES.has(k) && !taken.has(k)));
}

/**
 * The image's data into the volume from its start (the volume manager's copy_image_to_volume):
 * a raw image written as it is; any other disk format converted to raw first, as Cinder's
 * `fetch_to_raw` does (image-to-raw.ts). @throws when Glance fails, the image is unacceptable
 * or the data does not fit.
 */
export async function copyImageToVolume(deps: VolumeApiDeps, ctx: VolumeContext, image: GlanceImage, file: VolumeFile): Promise<void> {
  if (!deps.images) throw new ServiceCallError('image', 503, 'no image service configured');
  if (image.disk_format !== 'raw') {
    await imageToRaw({ conversionDir: deps.imageConversionDir ?? tmpdir(), qemuImg: deps.qemuImg ?? 'qemu-img', bytesPerGiB: deps.bytesPerGiB }, image, await deps.images.download(ctx.token, image.id), file);
    return;
  }
  let position = 0;
  for await (const chunk of await deps.images.download(ctx.token, image.id)) {
    if (position + chunk.length > file.sizeBytes) throw new Error(`image ${image.id} is larger than the volume`);
    await file.write(position, chunk);
    position += chunk.length;
  }
  await file.sync();
}

/** The volume's bytes, in 1 MiB pieces, for an upload to Glance. */
export async function* volumeBytes(file: VolumeFile): AsyncGenerator<Uint8Array> {
  const step = 1024 * 1024;
  for (let position = 0; position < file.sizeBytes; position += step) yield await file.read(position, Math.min(step, file.sizeBytes - position));
}
