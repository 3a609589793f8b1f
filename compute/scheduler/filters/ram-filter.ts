import { fits } from '../host-state.ts';
import type { HostFilter } from './host-filter.ts';

/**
 * Nova's RamFilter, as placement now does it: the instance's RAM (MEMORY_MB; ram_allocation_ratio) fits when the host's
 * use plus the request stays within (total - reserved) * allocation ratio, and the request is
 * no more than the host has at all.
 */
export const RamFilter: HostFilter = {
  name: 'RamFilter',
  hostPasses: (host, context) => fits(host, 'memoryMiB', context.spec.resources.memoryMiB),
};
