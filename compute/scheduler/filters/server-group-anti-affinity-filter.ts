import type { HostFilter } from './host-filter.ts';

/**
 * Nova's ServerGroupAntiAffinityFilter: an `anti-affinity` group's instances go to hosts with
 * fewer than `max_server_per_host` (1) of its members. A host already holding the instance
 * itself passes (a rebuild in place).
 */
export const ServerGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  hostPasses: (host, { spec, instanceUuid }) => {
    const group = spec.group;
    if (group?.policy !== 'anti-affinity') return true;
    if (host.instances.includes(instanceUuid)) return true;
    const members = new Set(group.members);
    const onHost = host.instances.filter((uuid) => members.has(uuid)).length;
    return onHost < (group.rules?.max_server_per_host ?? 1);
  },
};
