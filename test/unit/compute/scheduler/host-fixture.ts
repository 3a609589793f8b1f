import { DEFAULT_ALLOCATION_RATIOS, DEFAULT_RESERVED, type HostState } from '../../../../compute/scheduler/host-state.ts';
import type { RequestSpec } from '../../../../compute/scheduler/request-spec.ts';

export const NOW = 1_700_000_000_000;

/** A healthy 8-vCPU, 16 GiB (plus the 512 MiB reserve), 100 GiB host, with `changes` on top. */
export function host(name: string, changes: Partial<HostState> = {}): HostState {
  return {
    host: name,
    availabilityZone: 'nova',
    enabled: true,
    lastHeartbeatMs: NOW - 5_000,
    total: { vcpus: 8, memoryMiB: 16_384 + 512, diskGiB: 100 },
    used: { vcpus: 0, memoryMiB: 0, diskGiB: 0 },
    reserved: DEFAULT_RESERVED,
    allocationRatios: DEFAULT_ALLOCATION_RATIOS,
    supportedInstances: [['x86_64', 'qemu', 'hvm'], ['x86_64', 'kvm', 'hvm']],
    hypervisorVersion: 7_002_000,
    traits: [],
    instances: [],
    generation: 0,
    ...changes,
  };
}

/** A one-instance boot of an m1.small (1 vCPU, 2 GiB, 20 GiB), with `changes` on top. */
export function request(changes: Partial<RequestSpec> = {}): RequestSpec {
  return { instanceUuids: ['i-1'], resources: { vcpus: 1, memoryMiB: 2048, diskGiB: 20 }, imageProperties: {}, ...changes };
}
