import type { HostState } from '../host-state.ts';
import type { RequestSpec, ServerGroup } from '../request-spec.ts';
import type { HostWeigher } from './host-weigher.ts';

/** How many of the request's group's members the host holds, when the group has `policy`. */
function membersOnHost(host: HostState, spec: RequestSpec | undefined, policy: ServerGroup['policy']): number {
  const group = spec?.group;
  if (group?.policy !== policy) return 0;
  const members = new Set(group.members);
  return host.instances.filter((uuid) => members.has(uuid)).length;
}

/**
 * Nova's ServerGroupSoftAffinityWeigher: a `soft-affinity` group prefers the hosts holding more
 * of its members (`soft_affinity_weight_multiplier`, 1.0). A preference, not a filter: when
 * the best host is full the group spreads instead of failing. No `minval`, as in Nova: the
 * counts are normalized between the lowest and highest of the hosts weighed.
 */
export function serverGroupSoftAffinityWeigher(multiplier = 1.0): HostWeigher {
  return { name: 'ServerGroupSoftAffinityWeigher', multiplier, weigh: (h, spec) => membersOnHost(h, spec, 'soft-affinity') };
}

/** Nova's ServerGroupSoftAntiAffinityWeigher: fewer members of a `soft-anti-affinity` group weigh more. */
export function serverGroupSoftAntiAffinityWeigher(multiplier = 1.0): HostWeigher {
  return { name: 'ServerGroupSoftAntiAffinityWeigher', multiplier, weigh: (h, spec) => -membersOnHost(h, spec, 'soft-anti-affinity') };
}
