import type { HostFilter } from './host-filter.ts';

/**
 * Nova's AvailabilityZoneFilter: a request for a zone passes only hosts in it (a host not in
 * any zone is in `default_availability_zone`, `nova`, which the caller puts in its state).
 */
export const AvailabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  hostPasses: (host, context) => context.spec.availabilityZone === undefined || context.spec.availabilityZone === host.availabilityZone,
};
