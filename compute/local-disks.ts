import { badRequest, type NovaError } from './errors.ts';
import type { ServerFlavor } from './server-record.ts';

/**
 * A server's local disk besides its root: an ephemeral disk or swap, as Nova keeps them
 * (blank `local` block device mappings, the flavor's made at boot when the request and the
 * image give none). The host makes each blank in the instance directory: a file system on an
 * ephemeral disk, a swap signature on swap (docs/decisions.md, "Ephemeral and swap disks").
 */
export interface LocalDisk {
  readonly kind: 'ephemeral' | 'swap';
  /** GiB for an ephemeral disk, MiB for swap (Nova's `volume_size` of each). */
  readonly size: number;
  /** The file in the instance directory: `disk.eph<N>`, `disk.swap`, or `disk.local` (an ephemeral disk a resize added). */
  readonly file: string;
  /** The guest's device (`vdb`...): after the root disk, ephemeral disks in order, then swap, as libvirt's driver names them. */
  readonly device: string;
  /** An ephemeral disk's file system as the mapping asked (`guest_format`); null: the host's default. */
  readonly guest_format: string | null;
}

/** What a boot's blank `local` mappings ask for (Nova's `volume_size` and `guest_format`). */
export interface BlankLocal {
  readonly volumeSize?: number;
  readonly guestFormat: string | null;
}

/** Nova's `max_local_block_devices` default: the image's root disk, an ephemeral disk and swap. */
const MAX_LOCAL_BLOCK_DEVICES = 3;

/** libvirt's virtio names in order: vda..vdz, then vdaa... (Nova's `blockinfo.find_disk_dev_for_disk_bus`). */
export function virtioName(i: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return i < 26 ? `vd${letters[i]}` : `vd${letters[Math.floor(i / 26) - 1]}${letters[i % 26]}`;
}

/** The first virtio name from the `from`-th (1: the first after the root disk) that `used` (names without `/dev/`) does not hold. */
export function firstFreeDevice(used: ReadonlySet<string>, from = 1): string {
  let i = from;
  while (used.has(virtioName(i))) i++;
  return virtioName(i);
}

function invalid(details: string): NovaError {
  return badRequest(`Block Device Mapping is Invalid: ${details}`);
}

/**
 * A new server's local disks, as Nova's API makes and checks them (`_get_flavor_defined_bdms`,
 * `_validate_bdm`, `_volume_size`): the flavor's ephemeral disk unless the request (or image)
 * maps one, its swap unless they map swap; an ephemeral mapping without a size takes the
 * flavor's. Zero-sized ones are kept out (no disk). Devices follow libvirt's order.
 * @throws 400 as Nova: ephemeral disks larger in all than the flavor's, more than one swap,
 *   swap larger than the flavor's, more local devices than the limit.
 */
export function localDisksAtBoot(flavor: Pick<ServerFlavor, 'ephemeral' | 'swap'>, blanks: readonly BlankLocal[], rootIsLocal: boolean): LocalDisk[] {
  const swaps = blanks.filter((b) => b.guestFormat === 'swap');
  let ephemerals = blanks.filter((b) => b.guestFormat !== 'swap');
  if (ephemerals.length === 0 && flavor.ephemeral > 0) ephemerals = [{ volumeSize: flavor.ephemeral, guestFormat: null }];
  const swapAsked: readonly BlankLocal[] = swaps.length === 0 && flavor.swap > 0 ? [{ volumeSize: flavor.swap, guestFormat: 'swap' }] : swaps;
  const ephemeralTotal = ephemerals.reduce((sum, b) => sum + (b.volumeSize || flavor.ephemeral), 0);
  if (ephemeralTotal > flavor.ephemeral) throw badRequest('Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.');
  if (swapAsked.length > 1) throw invalid('More than one swap drive requested.');
  const swap = swapAsked[0];
  if (swap !== undefined && (swap.volumeSize ?? 0) > flavor.swap) throw badRequest('Swap drive requested is larger than instance type allows.');
  if ((rootIsLocal ? 1 : 0) + ephemerals.length + swapAsked.length > MAX_LOCAL_BLOCK_DEVICES) throw invalid('You specified more local devices than the limit allows');

  const out: LocalDisk[] = [];
  let next = 1;
  ephemerals.forEach((b, i) => {
    const size = b.volumeSize ?? flavor.ephemeral;
    if (size > 0) out.push({ kind: 'ephemeral', size, file: `disk.eph${i}`, device: virtioName(next++), guest_format: b.guestFormat });
  });
  const swapSize = swap === undefined ? 0 : (swap.volumeSize ?? flavor.swap);
  if (swapSize > 0) out.push({ kind: 'swap', size: swapSize, file: 'disk.swap', device: virtioName(next++), guest_format: 'swap' });
  return out;
}

/** The ephemeral GiB a resize may not go below (Nova's `get_bdm_ephemeral_disk_size(...) or flavor.ephemeral_gb`). */
export function ephemeralFloor(disks: readonly LocalDisk[], flavor: Pick<ServerFlavor, 'ephemeral'>): number {
  return disks.filter((d) => d.kind === 'ephemeral').reduce((sum, d) => sum + d.size, 0) || flavor.ephemeral;
}

/**
 * The local disks after a resize to `flavor` (Nova's `finish_migration` and
 * `_update_bdm_for_swap_to_finish_resize`): ephemeral disks stay as they are (their size is
 * their mapping's), a server with none gets `disk.local` of the new flavor's ephemeral size,
 * and swap follows the new flavor (made again; gone at 0). `used`: the volumes' devices.
 */
export function localDisksAfterResize(disks: readonly LocalDisk[], flavor: Pick<ServerFlavor, 'ephemeral' | 'swap'>, used: ReadonlySet<string>): LocalDisk[] {
  const out = disks.filter((d) => d.kind === 'ephemeral');
  const taken = new Set([...used, ...out.map((d) => d.device)]);
  const take = (device?: string): string => {
    const name = device !== undefined && !taken.has(device) ? device : firstFreeDevice(taken);
    taken.add(name);
    return name;
  };
  if (out.length === 0 && flavor.ephemeral > 0) out.push({ kind: 'ephemeral', size: flavor.ephemeral, file: 'disk.local', device: take(), guest_format: null });
  const swap = disks.find((d) => d.kind === 'swap');
  if (flavor.swap > 0) out.push({ kind: 'swap', size: flavor.swap, file: 'disk.swap', device: take(swap?.device), guest_format: 'swap' });
  return out;
}
