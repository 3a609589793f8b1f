import type { Resources } from './host-state.ts';

/** A server group as the scheduler sees it (Nova's InstanceGroup). */
export interface ServerGroup {
  readonly uuid: string;
  /** Soft policies are weighers in Nova, not filters; only the hard ones filter. */
  readonly policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';
  /** UUIDs of the group's instances, this request's included. */
  readonly members: readonly string[];
  /** `max_server_per_host` for anti-affinity (1 when absent). */
  readonly rules?: { readonly max_server_per_host?: number };
}

/** One boot request (Nova's RequestSpec, the parts the filters and weighers read). */
export interface RequestSpec {
  /** The instances to place, one host each (`min_count`..`max_count` servers). */
  readonly instanceUuids: readonly string[];
  /** What each instance claims. */
  readonly resources: Resources;
  /** The zone asked for (`--availability-zone`); any when absent. */
  readonly availabilityZone?: string;
  /** The image's properties (`hw_architecture`, `img_hv_type`, `hw_vm_mode`, ...). */
  readonly imageProperties: Readonly<Record<string, string>>;
  readonly group?: ServerGroup;
}

/** The flavor fields that decide a boot's resources. */
export interface FlavorResources {
  readonly vcpus: number;
  readonly ram: number;
  readonly disk: number;
  readonly 'OS-FLV-EXT-DATA:ephemeral'?: number;
  readonly swap?: number | '';
}

/**
 * What an instance of `flavor` claims (Nova's `resources_from_flavor`): its vCPUs and RAM, and
 * as disk the ephemeral GiB plus swap rounded up to GiB plus the root disk unless the server
 * boots from a volume.
 */
export function resourcesFromFlavor(flavor: FlavorResources, bootFromVolume = false): Resources {
  const swapMiB = typeof flavor.swap === 'number' ? flavor.swap : 0;
  const disk = (flavor['OS-FLV-EXT-DATA:ephemeral'] ?? 0) + Math.ceil(swapMiB / 1024) + (bootFromVolume ? 0 : flavor.disk);
  return { vcpus: flavor.vcpus, memoryMiB: flavor.ram, diskGiB: disk };
}
