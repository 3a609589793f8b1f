import type { HostFilter } from './host-filter.ts';

/**
 * Nova's ServerGroupAffinityFilter: an `affinity` group's instances all go to one host, the
 * one its members are on (any host while it has none placed).
 */
export const ServerGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  hostPasses: (host, { spec, groupHosts }) => spec.group?.policy !== 'affinity' || groupHosts.size === 0 || groupHosts.has(host.host),
};
