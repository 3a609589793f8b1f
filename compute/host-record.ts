import type { HostState } from './scheduler/host-state.ts';

/**
 * A compute host as its agent reports it (`hosts/<name>`): the scheduler's `HostState` (claims
 * change it by compare-and-swap, compute/scheduler/claims.ts) and what os-services and
 * os-hypervisors show of it.
 */
export interface ComputeHostRecord extends HostState {
  /** os-services' id from 2.53 (and the hypervisor's). */
  readonly serviceUuid: string;
  /** os-services' and os-hypervisors' integer id before 2.53. */
  readonly serviceNumber: number;
  readonly hypervisorType: string;
  readonly hostIp: string;
  /** Guests running on the host, as its agent last counted them. */
  readonly runningVms: number;
  /** The agent's last start (ms), for `os-services` `updated_at` history. */
  readonly startedMs: number;
  /** The zone the host's agent is configured with; `availabilityZone` is it unless an aggregate gives another. */
  readonly configuredZone?: string;
  /** The zone an aggregate holding the host gives it (its `availability_zone` metadata); absent: none. */
  readonly aggregateZone?: string;
}
