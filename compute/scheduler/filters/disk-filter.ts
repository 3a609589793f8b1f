import { fits } from '../host-state.ts';
import type { HostFilter } from './host-filter.ts';

/**
 * Nova's DiskFilter, as placement now does it: the instance's disk (DISK_GB; disk_allocation_ratio) fits when the host's
 * use plus the request stays within (total - reserved) * allocation ratio, and the request is
 * no more than the host has at all.
 */
export const DiskFilter: HostFilter = {
  name: 'DiskFilter',
  hostPasses: (host, context) => fits(host, 'diskGiB', context.spec.resources.diskGiB),
};
