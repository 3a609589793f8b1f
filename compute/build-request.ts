import type { Claim } from './scheduler/claims.ts';

/**
 * What a boot needs until its host's queue has it (Nova's BuildRequest): written with the
 * server record, removed once the work is queued. One left behind means the API stopped in
 * between; `ComputeService.resumeBuilds` places it again (claims and queue keys make that safe).
 */
export interface BuildRequest {
  readonly server: string;
  readonly token: string;
  readonly requestId: string;
  readonly claim: Claim;
  readonly imageProperties: Readonly<Record<string, string>>;
  readonly availabilityZone?: string;
  /** An admin's `zone:host` (or `zone:host:node`): claimed there without the scheduler's filters, as Nova's forced host. */
  readonly forcedHost?: string;
  /** An admin's `host`/`hypervisor_hostname` (2.74): the scheduler's filters see only that host. */
  readonly requestedHost?: string;
  /** The server group (the `group` hint), read again at placement for its current members. */
  readonly group?: string;
  readonly createdMs: number;
}
