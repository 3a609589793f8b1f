import { volumesOf } from '../block-device-record.ts';
import { notFound, overQuota } from '../errors.ts';
import type { GlanceImage, ImageApi } from '../image-api.ts';
import type { LocalDisk } from '../local-disks.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { type CinderVolume, type VolumeApi, VolumeCallError } from '../volume-api.ts';
import { novaErrorOfCinder } from './cinder-refusal.ts';
import { createSnapshotImage } from './snapshot-image.ts';

/** The image attributes Nova keeps apart from a volume's `volume_image_metadata` properties (`VIM_IMAGE_ATTRIBUTES`). */
const IMAGE_ATTRIBUTES = new Set(['image_id', 'image_name', 'size', 'checksum', 'container_format', 'disk_format', 'min_ram', 'min_disk']);
/** Properties a snapshot never inherits (Nova's `NON_INHERITABLE_IMAGE_PROPERTIES`). */
const NOT_INHERITED = new Set(['cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy', 'img_signature', 'img_signature_hash_method', 'img_signature_key_type', 'img_signature_certificate_uuid']);

/**
 * `createImage` of a volume-backed server, as Nova's `snapshot_volume_backed` makes it: no disk
 * is copied. Each volume of the server gets a Cinder snapshot (`force`, in use or not, with the
 * user's token), and the image is a bucket of properties: `block_device_mapping` (Nova's image
 * mapping of each snapshot, JSON as Nova's glance layer stores a list), `bdm_v2`,
 * `root_device_name`, the root volume's image properties and the request's `metadata`; no
 * data, activated as Nova does with an empty upload (raw, bare, size 0). A server booted from
 * the image gets volumes made from the snapshots (`image-mappings.ts`). As in Nova, the
 * project's snapshot limit is checked before any is made (403), the snapshots are not waited
 * for, and those made before a later failure stay.
 */
export async function snapshotVolumeBacked(d: { store: ComputeStore; images: ImageApi; volumes: VolumeApi }, token: string, s: ServerRecord, ask: { name: string; metadata: Readonly<Record<string, unknown>>; shareWith?: string }): Promise<GlanceImage> {
  const { name, metadata } = ask;
  const mappings = (await volumesOf(d.store, s)).filter((m) => m.volume_id !== '');
  const volumes: CinderVolume[] = [];
  for (const m of mappings) {
    const v = await d.volumes.get(token, m.volume_id);
    if (!v) throw notFound(`Volume ${m.volume_id} could not be found.`);
    volumes.push(v);
  }
  // Nova's best-effort check before any snapshot, so a server of several volumes is not left half-snapshotted by the quota.
  if (volumes.length > 0) {
    const limits = await d.volumes.absoluteLimits(token);
    const max = limits['maxTotalSnapshots'] ?? -1;
    if (max > -1 && volumes.length + (limits['totalSnapshotsUsed'] ?? 0) > max) throw overQuota('Quota exceeded for resources: snapshots');
  }
  const root = volumes[mappings.findIndex((m) => m.boot_index === 0)];
  const imageMeta = (root?.['volume_image_metadata'] ?? {}) as Record<string, unknown>;
  const inherited = Object.fromEntries(Object.entries(imageMeta).filter(([k, v]) => !IMAGE_ATTRIBUTES.has(k) && !NOT_INHERITED.has(k) && typeof v === 'string'));
  const imageMapping: Record<string, unknown>[] = [];
  for (const [i, m] of mappings.entries()) {
    const v = volumes[i] as CinderVolume;
    let snapshotId: string;
    try {
      snapshotId = (await d.volumes.createSnapshotForce(token, v.id, `snapshot for ${name}`, typeof v['description'] === 'string' ? v['description'] : null)).id;
    } catch (err) {
      throw translated(err, v.id);
    }
    imageMapping.push(snapshotMapping(snapshotId, { boot_index: m.boot_index ?? null, delete_on_termination: m.delete_on_termination, volume_size: v.size, device_name: m.device_name }));
  }
  // Nova keeps the other mappings as they are: a server booted from the image gets the same blank ephemeral and swap disks.
  for (const disk of s.local_disks ?? []) imageMapping.push(localMapping(disk));
  const image = await createSnapshotImage(d.images, token, {
    name,
    visibility: ask.shareWith ? 'shared' : 'private',
    min_ram: Number(imageMeta['min_ram'] ?? 0) || 0,
    min_disk: Number(imageMeta['min_disk'] ?? 0) || 0,
    ...inherited,
    ...metadata,
    root_device_name: '/dev/vda',
    ...(imageMapping.length > 0 ? { block_device_mapping: pythonJsonList(imageMapping), bdm_v2: 'True' } : {}),
  }, ask.shareWith);
  // Glance v2 activates an image only with data: Nova uploads none (raw, bare) for this one.
  await d.images.upload(token, image.id, { disk_format: 'raw', container_format: 'bare' }, (async function* () {})());
  return image;
}

/**
 * Nova's `snapshot_from_bdm(...).get_image_mapping()`: the snapshot to a volume, the template's
 * boot index, delete flag, size and device (with the bus and type the libvirt driver gave it),
 * every other field of a `BlockDeviceDict` null.
 */
function snapshotMapping(snapshotId: string, from: { boot_index: number | null; delete_on_termination: boolean; volume_size: number; device_name: string }): Record<string, unknown> {
  return {
    source_type: 'snapshot',
    destination_type: 'volume',
    snapshot_id: snapshotId,
    disk_bus: 'virtio',
    device_type: 'disk',
    boot_index: from.boot_index,
    delete_on_termination: from.delete_on_termination,
    volume_size: from.volume_size,
    device_name: from.device_name,
    guest_format: null,
    volume_id: null,
    image_id: null,
    no_device: null,
    tag: null,
    volume_type: null,
    encrypted: null,
    encryption_secret_uuid: null,
    encryption_format: null,
    encryption_options: null,
  };
}

/** A blank local mapping's `get_image_mapping()`: an ephemeral disk or swap, made anew by the server booted from the image. */
function localMapping(disk: LocalDisk): Record<string, unknown> {
  return { ...snapshotMapping('', { boot_index: -1, delete_on_termination: true, volume_size: disk.size, device_name: `/dev/${disk.device}` }), source_type: 'blank', destination_type: 'local', snapshot_id: null, guest_format: disk.guest_format };
}

/** `json.dumps` of a list of flat objects with Python's separators (`, ` and `: `), as Nova stores it. */
function pythonJsonList(list: readonly Record<string, unknown>[]): string {
  return `[${list.map((o) => `{${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`).join(', ')}]`;
}

/** Cinder's refusal of a snapshot as Nova's API answers it: over the limit is `OverQuota` (403), the rest as for any volume call. */
function translated(err: unknown, volumeId: string): unknown {
  if (err instanceof VolumeCallError && err.status === 413) return overQuota('Quota exceeded for resources: snapshots');
  return novaErrorOfCinder(err, volumeId);
}
