import type { HostState } from '../host-state.ts';
import type { RequestSpec } from '../request-spec.ts';

/** What a filter sees besides the host: the request, the instance being placed, and facts worked out once. */
export interface FilterContext {
  readonly spec: RequestSpec;
  /** The instance of `spec.instanceUuids` being placed now. */
  readonly instanceUuid: string;
  /** Hosts that hold members of the request's server group (Nova's `instance_group.hosts`). */
  readonly groupHosts: ReadonlySet<string>;
  /** The scheduler's clock, for heartbeats. */
  readonly nowMs: number;
  /** Nova's `service_down_time`. */
  readonly serviceDownTimeMs?: number;
}

/** One of Nova's host filters: a host passes or it does not (`host_passes`). */
export interface HostFilter {
  /** Nova's class name, as `enabled_filters` lists it. */
  readonly name: string;
  hostPasses(host: HostState, context: FilterContext): boolean;
}
