import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { FernetKeys } from '../common/token/key-repository.ts';
import type { RevocationList } from '../common/token/revocation.ts';
import { TokenValidator } from '../common/token/token-validator.ts';
import type { RecordStore } from '../client/record-store.ts';
import { availabilityZoneRoutes } from './api/availability-zones.ts';
import { flavorAccessRoutes } from './api/flavor-access.ts';
import { flavorExtraSpecRoutes } from './api/flavor-extra-specs.ts';
import { flavorRoutes } from './api/flavors.ts';
import { hypervisorRoutes } from './api/hypervisors.ts';
import { keypairRoutes } from './api/keypairs.ts';
import { limitRoutes } from './api/limits.ts';
import { quotaSetRoutes } from './api/quota-sets.ts';
import { serviceRoutes } from './api/services.ts';
import { versionRoutes } from './api/versions.ts';
import { RecordHostStateStore } from './host-store.ts';
import { ComputeServer } from './server.ts';
import { ServerRecordUsage } from './server-usage.ts';
import { ComputeStore } from './store.ts';

export interface ComputeServiceOptions {
  /** This service's URL as clients reach it; empty: taken from each request's Host. */
  readonly publicUrl: string;
}

/**
 * The compute API put together: its state in `records` (the `.compute` system account), tokens
 * validated against the identity service's keys and revocations, Nova's v2.1 routes behind one
 * `ComputeServer`.
 */
export class ComputeService {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly server: ComputeServer;

  constructor(options: ComputeServiceOptions, io: { records: RecordStore; keys: FernetKeys; revocations: RevocationList; clock: Clock; logger: Logger }) {
    this.store = new ComputeStore(io.records, io.clock);
    this.hosts = new RecordHostStateStore(this.store);
    const usage = new ServerRecordUsage(this.store);
    const validator = new TokenValidator(io.keys, io.revocations, io.clock);
    const routes = [
      ...versionRoutes(),
      ...flavorRoutes(this.store),
      ...flavorExtraSpecRoutes(this.store),
      ...flavorAccessRoutes(this.store),
      ...keypairRoutes(this.store),
      ...limitRoutes(this.store, usage),
      ...quotaSetRoutes(this.store, usage),
      ...availabilityZoneRoutes(this.store, this.hosts),
      ...serviceRoutes(this.store, this.hosts),
      ...hypervisorRoutes(this.store, this.hosts),
    ];
    this.server = new ComputeServer({ publicUrl: options.publicUrl, routes }, { validator, logger: io.logger, clock: io.clock });
  }
}
