import type { HostWeigher } from './host-weigher.ts';

/**
 * Nova's CPUWeigher: more free vCPUs weigh more, counted as total * cpu_allocation_ratio -
 * used (`cpu_weight_multiplier`, default 1.0: spread).
 */
export function cpuWeigher(multiplier = 1.0): HostWeigher {
  return { name: 'CPUWeigher', multiplier, minval: 0, weigh: (h) => h.total.vcpus * h.allocationRatios.vcpus - h.used.vcpus };
}
