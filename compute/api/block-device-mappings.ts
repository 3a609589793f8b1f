import { atLeast, versionString } from '../api-version.ts';
import type { VolumeSource } from '../block-device-record.ts';
import { badRequest, type NovaError } from '../errors.ts';
import type { GlanceImage, ImageApi } from '../image-api.ts';
import type { ComputeRequest } from '../request.ts';
import { booleanParam, fieldError, isObject, pyRepr } from '../validation.ts';
import { type CinderVolume, type VolumeApi, VolumeCallError } from '../volume-api.ts';

/** One `block_device_mapping_v2` item after Nova's schema and `BlockDeviceDict.from_api`. */
export interface RequestedMapping {
  readonly sourceType: 'volume' | 'image' | 'snapshot' | 'blank';
  readonly destinationType: 'local' | 'volume';
  readonly uuid?: string;
  /** None and negative are "not a boot device" (Nova's `boot_index` -1). */
  readonly bootIndex: number;
  readonly volumeSize?: number;
  readonly deleteOnTermination: boolean;
  readonly tag: string | null;
  /** As given (`vda` or `/dev/vda`); mappings an image defines give way to the request's of the same name. */
  readonly deviceName?: string;
  /** `guest_format`: `swap` makes a blank local mapping swap; otherwise an ephemeral disk's file system, checked by the host. */
  readonly guestFormat?: string | null;
}

const SOURCE_TYPES = ['volume', 'image', 'snapshot', 'blank'] as const;
const DESTINATION_TYPES = ['local', 'volume'] as const;
/** The legacy mapping's fields and v2's (nova/api/openstack/compute/schemas/servers.py). */
const FIELDS = ['virtual_name', 'volume_id', 'snapshot_id', 'volume_size', 'device_name', 'delete_on_termination', 'no_device', 'connection_info', 'source_type', 'uuid', 'image_id', 'destination_type', 'guest_format', 'device_type', 'disk_bus', 'boot_index'];
const GIB = 1024 ** 3;

/** Nova's `InvalidBDMFormat`/`InvalidBDM`: 400 "Block Device Mapping is Invalid: <details>". */
export function invalidFormat(details: string): NovaError {
  return badRequest(`Block Device Mapping is Invalid: ${details}`);
}

export function invalidBootSequence(): NovaError {
  return badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
}

function stringField(name: string, value: unknown, max: number, pattern?: RegExp): string {
  if (typeof value !== 'string') throw fieldError(name, value, `${pyRepr(value)} is not of type 'string'`);
  if (value.length > max) throw fieldError(name, value, `${pyRepr(value)} is too long`);
  if (pattern !== undefined && !pattern.test(value)) throw fieldError(name, value, `${pyRepr(value)} does not match '${pattern.source}'`);
  return value;
}

/**
 * The request's `block_device_mapping_v2` as Nova's schema and `BlockDeviceDict.from_api` check
 * it: `tag` from 2.42 (and at 2.32), `volume_type` from 2.67; an image mapped to `local` only as
 * the boot device of a request that names the image (what clients add for `--image`); a
 * `no_device` mapping is dropped.
 */
export function parseMappings(req: ComputeRequest, value: unknown, imageGiven: boolean): RequestedMapping[] {
  if (!Array.isArray(value)) throw fieldError('block_device_mapping_v2', value, `${pyRepr(value)} is not of type 'array'`);
  const allowed = [...FIELDS, ...(atLeast(req.version, '2.42') || versionString(req.version) === '2.32' ? ['tag'] : []), ...(atLeast(req.version, '2.67') ? ['volume_type'] : [])];
  const out: RequestedMapping[] = [];
  value.forEach((item: unknown, i: number) => {
    if (!isObject(item)) throw fieldError(String(i), item, `${pyRepr(item)} is not of type 'object'`);
    const extra = Object.keys(item).filter((k) => !allowed.includes(k));
    if (extra.length > 0) throw fieldError(String(i), item, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    const source = item['source_type'];
    if (source !== undefined && !SOURCE_TYPES.includes(source as never)) throw fieldError('source_type', source, `${pyRepr(source)} is not one of ${pyRepr(SOURCE_TYPES)}`);
    const destination = item['destination_type'];
    if (destination !== undefined && !DESTINATION_TYPES.includes(destination as never)) throw fieldError('destination_type', destination, `${pyRepr(destination)} is not one of ${pyRepr(DESTINATION_TYPES)}`);
    const uuid = item['uuid'] === undefined ? undefined : stringField('uuid', item['uuid'], 255, /^[a-zA-Z0-9._-]*$/);
    if (uuid === '') throw fieldError('uuid', uuid, "'' is too short");
    const deviceName = item['device_name'] === undefined || item['device_name'] === null ? undefined : stringField('device_name', item['device_name'], 255, /^[a-zA-Z0-9._/-]*$/);
    const boot = item['boot_index'];
    if (boot !== undefined && boot !== null && !(typeof boot === 'number' && Number.isInteger(boot)) && !(typeof boot === 'string' && /^-?[0-9]+$/.test(boot))) {
      throw fieldError('boot_index', boot, typeof boot === 'string' ? `${pyRepr(boot)} does not match '^-?[0-9]+$'` : `${pyRepr(boot)} is not of type 'integer', 'string', 'null'`);
    }
    const size = item['volume_size'];
    if (size !== undefined && size !== null) {
      if (!(typeof size === 'number' && Number.isInteger(size)) && !(typeof size === 'string' && /^[0-9]+$/.test(size))) throw fieldError('volume_size', size, typeof size === 'string' ? `${pyRepr(size)} does not match '^[0-9]+$'` : `${pyRepr(size)} is not of type 'integer', 'string'`);
      if (Number(size) < 1) throw fieldError('volume_size', size, `${pyRepr(size)} is less than the minimum of 1`);
    }
    const dot = item['delete_on_termination'];
    if (dot !== undefined) booleanParam('delete_on_termination', dot);
    const guestFormat = item['guest_format'] === undefined || item['guest_format'] === null ? null : stringField('guest_format', item['guest_format'], 255);
    const tag = item['tag'];
    if (tag !== undefined && (typeof tag !== 'string' || tag.length > 60 || /[,/]/.test(tag))) throw fieldError('tag', tag, `${pyRepr(tag)} does not match '^[^,/]*$'`);
    if (item['no_device']) return;

    // BlockDeviceDict.from_api, then its _validate.
    if (source === 'blank' && uuid !== undefined) throw invalidFormat('Invalid device UUID.');
    if (source !== 'blank' && uuid === undefined) throw invalidFormat('Missing device UUID.');
    const bootIndex = boot === undefined || boot === null ? -1 : Number(boot);
    if (source === 'image' && destination === 'local' && !(imageGiven && bootIndex === 0)) throw invalidFormat('Mapping image to local is not supported.');
    const volumeType = item['volume_type'];
    if (destination === 'local' && volumeType) throw invalidFormat('Specifying a volume_type with destination_type=local is not supported.');
    if (source === 'volume' && volumeType) throw invalidFormat('Specifying volume type to existing volume is not supported.');
    if (source === undefined) throw invalidFormat('Some required fields are missing');
    out.push({
      sourceType: source as RequestedMapping['sourceType'],
      // Nova's default: a volume, snapshot or image goes to a volume, blank to local.
      destinationType: (destination ?? (source === 'blank' ? 'local' : 'volume')) as RequestedMapping['destinationType'],
      ...(uuid !== undefined ? { uuid } : {}),
      bootIndex,
      ...(size !== undefined && size !== null ? { volumeSize: Number(size) } : {}),
      deleteOnTermination: dot === undefined ? false : booleanParam('delete_on_termination', dot),
      tag: typeof tag === 'string' ? tag : null,
      ...(deviceName ? { deviceName } : {}),
      guestFormat,
    });
  });
  return out;
}

/**
 * Nova's `_validate_bdm` boot sequence: the boot indexes at or above zero are 0, 1, 2... with
 * at least one (the root disk), and `_check_and_transform_bdm`'s refusals before it.
 */
export function checkSequence(mappings: readonly RequestedMapping[], count: number): void {
  const indexes = mappings.map((m) => m.bootIndex).filter((i) => i >= 0).sort((a, b) => a - b);
  if (count > 1 && mappings.some((m) => m.sourceType === 'volume')) throw badRequest('Cannot attach one or more volumes to multiple instances');
  if (indexes.length === 0 || indexes.some((v, i) => v !== i)) throw invalidBootSequence();
  for (const m of mappings) {
    // A local disk is the image's copy, or a blank (ephemeral or swap: localDisksAtBoot); a volume or snapshot is not copied to one.
    if (m.destinationType === 'local' && m.sourceType !== 'image' && m.sourceType !== 'blank') throw invalidFormat('local disks from volumes or snapshots are not offered by this cloud.');
    // An ephemeral disk or swap boots nothing: the root is the image's copy or a volume.
    if (m.destinationType === 'local' && m.sourceType === 'blank' && m.bootIndex === 0) throw invalidBootSequence();
    if (m.sourceType === 'image' && m.destinationType === 'volume' && !m.volumeSize) throw badRequest("Images with destination_type 'volume' need to have a non-zero size specified");
    if (m.sourceType === 'blank' && m.destinationType === 'volume' && !m.volumeSize) throw badRequest("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
  }
}

/** The image's metadata Nova boots with (`boot_meta`): a Glance image's, or a volume's `volume_image_metadata`. */
export interface BootMeta {
  /** The image booted, when there is one (a blank root volume has none). */
  readonly imageId?: string;
  readonly minRam: number;
  readonly minDisk: number;
  readonly properties: Readonly<Record<string, string>>;
  /** The image's `os_type` (Nova keeps it as `instance.os_type`). */
  readonly osType?: string;
}

function cinderBootable(v: CinderVolume): boolean {
  // Cinder answers `bootable` as the string "true"/"false"; Nova reads it as a boolean.
  return v['bootable'] === true || v['bootable'] === 'true';
}

/** An image's boot metadata: its `min_ram`, `min_disk` and the `hw_`/`img_` properties the scheduler's filters read. */
export function imageBootMeta(image: GlanceImage): BootMeta {
  const properties = Object.fromEntries(Object.entries(image).filter(([k, v]) => (k.startsWith('hw_') || k.startsWith('img_')) && typeof v === 'string')) as Record<string, string>;
  const osType = image['os_type'];
  return { imageId: image.id, minRam: image.min_ram ?? 0, minDisk: image.min_disk ?? 0, properties, ...(typeof osType === 'string' ? { osType } : {}) };
}

function fromVolume(v: CinderVolume): BootMeta {
  const meta = (v['volume_image_metadata'] ?? {}) as Record<string, unknown>;
  const properties = Object.fromEntries(Object.entries(meta).filter(([k, x]) => (k.startsWith('hw_') || k.startsWith('img_')) && typeof x === 'string')) as Record<string, string>;
  return { ...(typeof meta['image_id'] === 'string' ? { imageId: meta['image_id'] } : {}), ...(typeof meta['os_type'] === 'string' ? { osType: meta['os_type'] } : {}), minRam: Number(meta['min_ram'] ?? 0) || 0, minDisk: Number(meta['min_disk'] ?? 0) || 0, properties };
}

export interface MappingDeps {
  readonly images: ImageApi;
  readonly volumes: VolumeApi;
}

/** A mapping checked against Glance and Cinder: what the block-devices record and the build need. */
export interface CheckedMapping {
  readonly request: RequestedMapping;
  /** An existing volume (`source_type` volume). */
  readonly volume?: CinderVolume;
  /** What compute makes at the build. */
  readonly source?: VolumeSource;
  /** The volume's size in GiB, as it is or will be. */
  readonly size: number;
}

async function cinder<T>(call: () => Promise<T>, missing: () => NovaError): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof VolumeCallError && (err.status === 404 || err.status === 403)) throw missing();
    throw err;
  }
}

/**
 * Nova's `get_bdm_image_metadata` for a request without `imageRef`: the root mapping's image,
 * or its volume's (or snapshot's volume's) image metadata; a volume whose `bootable` is false
 * is refused (`InvalidBDMVolumeNotBootable`).
 */
export async function bootMetaOf(d: MappingDeps, token: string, root: RequestedMapping): Promise<BootMeta> {
  const id = root.uuid as string;
  if (root.sourceType === 'image') {
    const image = await d.images.get(token, id).catch(() => undefined);
    if (!image) throw invalidFormat(`failed to get image ${id}.`);
    if (image.status !== 'active') throw badRequest(`Image ${id} is not active.`);
    return imageBootMeta(image);
  }
  if (root.sourceType === 'blank') return { minRam: 0, minDisk: 0, properties: {} };
  let volumeId = id;
  if (root.sourceType === 'snapshot') {
    const snapshot = await cinder(() => d.volumes.getSnapshot(token, id), () => invalidFormat(`failed to get snapshot ${id}.`));
    if (!snapshot) throw invalidFormat(`failed to get snapshot ${id}.`);
    volumeId = snapshot.volume_id;
  }
  const volume = await cinder(() => d.volumes.get(token, volumeId), () => invalidFormat(`failed to get volume ${volumeId}.`));
  if (!volume) throw invalidFormat(`failed to get volume ${volumeId}.`);
  if (!cinderBootable(volume)) throw badRequest(`Block Device ${volumeId} is not bootable.`);
  return fromVolume(volume);
}

/** Nova's `_validate_flavor_image_nostatus` for a volume-backed server: the root volume against the image's `min_disk` (no flavor disk check). */
export function checkRootSize(meta: BootMeta, sizeGiB: number): void {
  if (meta.minDisk > sizeGiB) throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${sizeGiB * GIB} bytes, minimum size is ${meta.minDisk * GIB} bytes.`);
}

/**
 * Nova's `_validate_bdm` for each mapping to a volume: an image that exists, an existing volume
 * Cinder shows the caller (its reservation comes later, `reserve`), a snapshot that exists.
 * Mappings of the request's own image to `local` (the image boot) are left out.
 */
export async function checkMappings(d: MappingDeps, token: string, mappings: readonly RequestedMapping[]): Promise<CheckedMapping[]> {
  const out: CheckedMapping[] = [];
  for (const m of mappings) {
    if (m.destinationType === 'local') continue;
    const id = m.uuid as string;
    if (m.sourceType === 'image') {
      const image = await d.images.get(token, id).catch(() => undefined);
      if (!image) throw invalidFormat(`failed to get image ${id}.`);
      out.push({ request: m, source: { type: 'image', id, volume_size: m.volumeSize as number }, size: m.volumeSize as number });
    } else if (m.sourceType === 'volume') {
      const volume = await cinder(() => d.volumes.get(token, id), () => badRequest(`Volume ${id} could not be found.`));
      if (!volume) throw badRequest(`Volume ${id} could not be found.`);
      out.push({ request: m, volume, size: volume.size });
    } else if (m.sourceType === 'snapshot') {
      const snapshot = await cinder(() => d.volumes.getSnapshot(token, id), () => invalidFormat(`failed to get snapshot ${id}.`));
      if (!snapshot) throw invalidFormat(`failed to get snapshot ${id}.`);
      const size = m.volumeSize ?? snapshot.size;
      out.push({ request: m, source: { type: 'snapshot', id, volume_size: size }, size });
    } else {
      out.push({ request: m, source: { type: 'blank', volume_size: m.volumeSize as number }, size: m.volumeSize as number });
    }
  }
  return out;
}

/**
 * Nova's `_validate_vol_az_for_create`, for `cross_az_attach = False`: the existing volumes of a
 * boot all in one zone, and that the server's (`requested`, `zone` or `zone:host`); with no zone
 * asked for, the volumes' zone is returned for the server to be scheduled to, unless it is the
 * default `nova` (Nova does not pin a server to it).
 * @throws 400 MismatchVolumeAZException
 */
export function zoneOfVolumes(requested: string | undefined, checked: readonly CheckedMapping[]): string | undefined {
  const zones = checked.flatMap((m) => (m.volume ? [m.volume.availability_zone] : []));
  if (zones.length === 0) return undefined;
  if (new Set(zones).size > 1) throw badRequest(`Volumes are in different availability zones: ${zones.join(',')}`);
  const volumeZone = zones[0] as string;
  const serverZone = requested?.split(':')[0] || undefined;
  if (serverZone === undefined) return volumeZone === DEFAULT_ZONE ? undefined : volumeZone;
  if (serverZone !== volumeZone) throw badRequest(`Server and volumes are not in the same availability zone. Server is in: ${serverZone}. Volumes are in: ${volumeZone}`);
  return undefined;
}

/** Nova's `default_availability_zone`, the compute hosts' zone when none is configured. */
const DEFAULT_ZONE = 'nova';

/**
 * Nova's `check_attach_and_reserve_volume`: a Cinder attachment for the server (the volume
 * `reserved`); Cinder's refusal (not `available`, say) is Nova's `InvalidVolume`.
 */
export async function reserve(volumes: VolumeApi, token: string, volumeId: string, server: string): Promise<string> {
  try {
    return (await volumes.attachmentCreate(token, volumeId, server)).id;
  } catch (err) {
    if (err instanceof VolumeCallError && err.status === 400) throw badRequest(`Invalid volume: Invalid input received: ${err.reason}`);
    if (err instanceof VolumeCallError && err.status === 404) throw badRequest(`Volume ${volumeId} could not be found.`);
    throw err;
  }
}
