/**
 * What the scheduler knows of one compute host (Nova's `HostState` with placement's inventory
 * folded in): its capacity and what instances use of it, its allocation ratios and reserves,
 * its zone, whether its service is enabled and up, what guests it can run, and which
 * instances are on it. Plain data: the scheduler's functions read it and return new copies.
 */
export interface HostState {
  /** The compute host's name (Nova's `host`, one node per host here). */
  readonly host: string;
  readonly availabilityZone: string;
  /** `os-services` enabled (an operator may disable a host, with a reason). */
  readonly enabled: boolean;
  readonly disabledReason?: string;
  /** An operator marked the service down (os-services `forced_down`, 2.11): it is down whatever it reports. */
  readonly forcedDown?: boolean;
  /** When the host's agent last reported (ms since the epoch); see `isServiceUp`. */
  readonly lastHeartbeatMs: number;
  readonly total: Resources;
  /** What the instances on the host use (their claims), without the reserve. */
  readonly used: Resources;
  /** Kept back for the host itself (Nova's `reserved_host_*`). */
  readonly reserved: Resources;
  readonly allocationRatios: Resources;
  /** `[architecture, hypervisor type, vm mode]` triples the host runs (Nova's supported_instances). */
  readonly supportedInstances: readonly (readonly [string, string, string])[];
  /** The hypervisor's version as Nova encodes it: major * 1,000,000 + minor * 1,000 + micro. */
  readonly hypervisorVersion?: number;
  /** Placement traits (`HW_CPU_X86_AVX2`, `COMPUTE_STATUS_DISABLED`, ...). */
  readonly traits: readonly string[];
  /** UUIDs of the instances placed on the host (claimed, building or running). */
  readonly instances: readonly string[];
  /**
   * The server group of each instance here that booted into one (instance UUID to group UUID),
   * written by the claim itself, so a hard group policy is checked against the host's own
   * record: two concurrent boots into one anti-affinity group, each knowing only the members
   * it had read, still cannot both land here (compute/scheduler/claims.ts).
   */
  readonly instanceGroups?: Readonly<Record<string, string>>;
  /** Bumped by every claim and release (placement's resource provider generation). */
  readonly generation: number;
}

/** Amounts of the three resources the scheduler places: VCPU, MEMORY_MB, DISK_GB. */
export interface Resources {
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

export type ResourceName = keyof Resources;
export const RESOURCE_NAMES: readonly ResourceName[] = ['vcpus', 'memoryMiB', 'diskGiB'];

/** Placement's resource class names, for messages. */
export const RESOURCE_CLASSES: Readonly<Record<ResourceName, string>> = { vcpus: 'VCPU', memoryMiB: 'MEMORY_MB', diskGiB: 'DISK_GB' };

/**
 * Nova's defaults: `initial_{cpu,ram,disk}_allocation_ratio` 4.0/1.0/1.0 and
 * `reserved_host_memory_mb` 512 (no vCPUs or disk reserved).
 */
export const DEFAULT_ALLOCATION_RATIOS: Resources = { vcpus: 4, memoryMiB: 1, diskGiB: 1 };
export const DEFAULT_RESERVED: Resources = { vcpus: 0, memoryMiB: 512, diskGiB: 0 };

/** Placement's capacity of a resource: (total - reserved) * allocation ratio. */
export function capacity(host: HostState, resource: ResourceName): number {
  return (host.total[resource] - host.reserved[resource]) * host.allocationRatios[resource];
}

/**
 * Whether `amount` more of `resource` fits, as placement checks an allocation: within the
 * capacity, and no more than the host has at all (max_unit = total).
 */
export function fits(host: HostState, resource: ResourceName, amount: number): boolean {
  if (amount === 0) return true;
  return amount <= host.total[resource] && host.used[resource] + amount <= capacity(host, resource);
}

/** Nova's `service_down_time`: a host not heard from for this long is down. */
export const SERVICE_DOWN_TIME_MS = 60_000;

/** Nova's servicegroup `service_is_up`: a heartbeat within `service_down_time` (the clock is the caller's). */
export function isServiceUp(host: Pick<HostState, 'forcedDown' | 'lastHeartbeatMs'>, nowMs: number, serviceDownTimeMs = SERVICE_DOWN_TIME_MS): boolean {
  // Nova's servicegroup db driver: a forced-down service is down before its heartbeat is looked at.
  if (host.forcedDown === true) return false;
  return Math.abs(nowMs - host.lastHeartbeatMs) <= serviceDownTimeMs;
}
