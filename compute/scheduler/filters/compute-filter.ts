import { isServiceUp } from '../host-state.ts';
import type { HostFilter } from './host-filter.ts';

/** Nova's ComputeFilter: only hosts whose compute service is enabled and up. */
export const ComputeFilter: HostFilter = {
  name: 'ComputeFilter',
  hostPasses: (host, context) => host.enabled && isServiceUp(host, context.nowMs, context.serviceDownTimeMs),
};
