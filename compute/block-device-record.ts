import { RecordExistsError } from '../client/record-store.ts';
import { updateRecord } from '../client/record-update.ts';
import { firstFreeDevice, type LocalDisk } from './local-disks.ts';
import { T } from './records.ts';
import type { ServerFlavor, ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';

/**
 * Where a boot mapping's volume comes from when compute makes it (Nova's `source_type` image,
 * blank or snapshot with `destination_type` volume): the source's id and the size in GiB.
 */
export interface VolumeSource {
  readonly type: 'image' | 'blank' | 'snapshot';
  /** The image or snapshot; absent for blank. */
  readonly id?: string;
  readonly volume_size: number;
}

/**
 * A volume attached to a server (Nova's BlockDeviceMapping with `destination_type` volume):
 * the device name it was given, the Cinder attachment holding the volume for it, and whether
 * the host has connected it yet.
 */
export interface BlockDeviceMapping {
  /** The mapping's own UUID (`bdm_uuid` at 2.89). */
  readonly uuid: string;
  /** '' until compute has made the volume of a mapping with a `source` (at the build). */
  readonly volume_id: string;
  /** 0 for the root disk of a server booted from a volume; absent (none) for the others. */
  readonly boot_index?: number;
  /** The image in a root volume (Nova's `volume_image_metadata.image_id`), what a rebuild must name. */
  readonly image_id?: string;
  /** A volume compute makes at the build; absent for an existing volume (`source_type` volume). */
  readonly source?: VolumeSource;
  /** `/dev/vdb`... */
  readonly device_name: string;
  readonly tag: string | null;
  readonly delete_on_termination: boolean;
  /** Cinder's attachment; null until it is created (Nova's reserve step). */
  readonly attachment_id: string | null;
  /** The host connected the volume and Cinder marked it in-use. */
  readonly attached: boolean;
  /** What the host connected, so a detach takes out the same disk. */
  readonly connection?: { readonly path: string; readonly format: 'raw' | 'qcow2'; readonly readOnly?: boolean; readonly iotune?: Readonly<Record<string, number>> };
  readonly created_at: string;
}

/** `block-devices/<server>`: every volume mapping of one server, changed by compare-and-swap only. */
export interface BlockDevicesRecord {
  readonly server: string;
  readonly mappings: readonly BlockDeviceMapping[];
}

/** The root volume's mapping of a server booted from a volume (Nova's `root_bdm` with a volume), if it is one. */
export function rootVolume(mappings: readonly BlockDeviceMapping[]): BlockDeviceMapping | undefined {
  return mappings.find((m) => m.boot_index === 0);
}

export async function blockDevicesOf(store: ComputeStore, server: string): Promise<readonly BlockDeviceMapping[]> {
  return (await store.get<BlockDevicesRecord>(T.blockDevices, server))?.mappings ?? [];
}

/** The server's mappings, read only for a server that has had any (`volume_mappings`). */
export async function volumesOf(store: ComputeStore, server: Pick<ServerRecord, 'uuid' | 'volume_mappings' | 'volume_backed'>): Promise<readonly BlockDeviceMapping[]> {
  return server.volume_mappings || server.volume_backed ? blockDevicesOf(store, server.uuid) : [];
}

/**
 * Changes a server's mappings with compare-and-swap (the record made when absent), as Nova's
 * per-instance lock serializes `reserve_block_device_name`: `change` sees the mappings as they
 * are and returns the new list, or undefined to leave them. Returns what was written (or found).
 */
export async function changeBlockDevices(store: ComputeStore, server: string, change: (mappings: readonly BlockDeviceMapping[]) => readonly BlockDeviceMapping[] | undefined): Promise<readonly BlockDeviceMapping[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await store.records.get<BlockDevicesRecord>(T.blockDevices, server);
    if (!current) {
      const next = change([]);
      if (next === undefined) return [];
      try {
        await store.records.create(T.blockDevices, server, { server, mappings: next });
        return next;
      } catch (err) {
        if (err instanceof RecordExistsError) continue;
        throw err;
      }
    }
    const updated = await updateRecord<BlockDevicesRecord>(store.records, T.blockDevices, server, (cur) => {
      const next = change(cur.value.mappings);
      return next === undefined ? undefined : { server, mappings: next };
    });
    return updated?.value.mappings ?? [];
  }
  throw new Error(`block devices of ${server}: too many concurrent changes`);
}

/** Removes a server's mappings record (its delete). */
export async function forgetBlockDevices(store: ComputeStore, server: string): Promise<void> {
  await store.records.delete(T.blockDevices, server);
}

/**
 * The device a new volume gets, as Nova's libvirt driver picks it (it ignores the name asked
 * for): the first free virtio name after the root disk (`vda`) and the server's ephemeral and
 * swap disks. A server recorded before it kept its local disks has the flavor's counted, as
 * Nova's `blockinfo` counts them whether or not the domain has them.
 */
export function nextDeviceName(server: { readonly flavor: Pick<ServerFlavor, 'ephemeral' | 'swap'>; readonly local_disks?: readonly LocalDisk[] }, mappings: readonly BlockDeviceMapping[]): string {
  const used = new Set(mappings.map((m) => m.device_name.replace(/^\/dev\//, '')));
  if (server.local_disks !== undefined) return `/dev/${firstFreeDevice(new Set([...used, ...server.local_disks.map((d) => d.device)]))}`;
  return `/dev/${firstFreeDevice(used, 1 + (server.flavor.ephemeral > 0 ? 1 : 0) + (server.flavor.swap > 0 ? 1 : 0))}`;
}
