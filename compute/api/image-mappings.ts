import type { GlanceImage } from '../image-api.ts';
import { isObject } from '../validation.ts';
import { invalidFormat, type RequestedMapping } from './block-device-mappings.ts';

/**
 * The block device mappings an image carries (Nova's `_get_image_defined_bdms`): a snapshot of a
 * volume-backed server is an image of no data whose `block_device_mapping` property (JSON, as
 * Nova's glance layer stores a list) maps its volumes' snapshots, with `bdm_v2` set. Nova takes
 * any `bdm_v2` value Glance holds (a string) as the v2 format; images without it carry Nova's
 * legacy format, which this compute does not read (no mappings).
 */
export function imageDefinedMappings(image: GlanceImage): RequestedMapping[] {
  const raw = image['block_device_mapping'];
  const v2 = image['bdm_v2'];
  if (raw === undefined || raw === null || raw === '' || v2 === undefined || v2 === null || v2 === '' || v2 === false) return [];
  let list: unknown;
  try {
    list = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    throw invalidFormat(`the block_device_mapping of image ${image.id} is not JSON.`);
  }
  if (!Array.isArray(list)) throw invalidFormat(`the block_device_mapping of image ${image.id} is not a list.`);
  const out: RequestedMapping[] = [];
  for (const item of list) {
    if (!isObject(item)) throw invalidFormat(`the block_device_mapping of image ${image.id} holds ${JSON.stringify(item)}.`);
    if (item['no_device']) continue;
    const source = item['source_type'];
    if (source !== 'volume' && source !== 'image' && source !== 'snapshot' && source !== 'blank') throw invalidFormat('Some required fields are missing');
    const destination = item['destination_type'] ?? (source === 'blank' ? 'local' : 'volume');
    if (destination !== 'local' && destination !== 'volume') throw invalidFormat(`destination_type ${String(destination)} is not known.`);
    const uuid = source === 'snapshot' ? item['snapshot_id'] : source === 'volume' ? item['volume_id'] : source === 'image' ? item['image_id'] : undefined;
    if (source !== 'blank' && (typeof uuid !== 'string' || uuid === '')) throw invalidFormat('Missing device UUID.');
    const boot = item['boot_index'];
    const size = item['volume_size'];
    out.push({
      sourceType: source,
      destinationType: destination,
      ...(typeof uuid === 'string' ? { uuid } : {}),
      bootIndex: boot === null || boot === undefined || boot === '' ? -1 : Number(boot),
      ...(size !== null && size !== undefined && Number(size) > 0 ? { volumeSize: Number(size) } : {}),
      deleteOnTermination: item['delete_on_termination'] === true || item['delete_on_termination'] === 'True' || item['delete_on_termination'] === 'true',
      tag: typeof item['tag'] === 'string' ? item['tag'] : null,
      ...(typeof item['device_name'] === 'string' && item['device_name'] !== '' ? { deviceName: item['device_name'] } : {}),
      guestFormat: typeof item['guest_format'] === 'string' && item['guest_format'] !== '' ? item['guest_format'] : null,
    });
  }
  return out;
}

/**
 * The request's mappings with the image's (Nova's `_check_and_transform_bdm`): when the image
 * maps the boot device, the image-to-disk boot mapping clients add for `--image` goes; an
 * image mapping gives way to a request mapping of the same device name.
 */
export function withImageMappings(requested: readonly RequestedMapping[], fromImage: readonly RequestedMapping[]): RequestedMapping[] {
  if (fromImage.length === 0) return [...requested];
  const rootInImage = fromImage.some((m) => m.bootIndex === 0);
  const kept = rootInImage ? requested.filter((m) => !(m.bootIndex === 0 && m.sourceType === 'image')) : [...requested];
  const names = new Set(kept.flatMap((m) => (m.deviceName ? [devicePath(m.deviceName)] : [])));
  return [...kept, ...fromImage.filter((m) => !m.deviceName || !names.has(devicePath(m.deviceName)))];
}

/** `vdb` and `/dev/vdb` name one device (Nova's `prepend_dev`). */
function devicePath(name: string): string {
  return name.startsWith('/dev/') ? name : `/dev/${name}`;
}
