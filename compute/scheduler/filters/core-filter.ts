import { fits } from '../host-state.ts';
import type { HostFilter } from './host-filter.ts';

/**
 * Nova's CoreFilter, as placement now does it: the instance's vCPUs (VCPU; cpu_allocation_ratio) fits when the host's
 * use plus the request stays within (total - reserved) * allocation ratio, and the request is
 * no more than the host has at all.
 */
export const CoreFilter: HostFilter = {
  name: 'CoreFilter',
  hostPasses: (host, context) => fits(host, 'vcpus', context.spec.resources.vcpus),
};
