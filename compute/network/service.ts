import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import type { FernetKeys } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { TokenValidator } from '../../common/token/token-validator.ts';
import type { RecordStore } from '../../client/record-store.ts';
import { extensionRoutes, versionRoutes } from './api/extensions.ts';
import { floatingIpRoutes } from './api/floating-ips.ts';
import { networkRoutes } from './api/networks.ts';
import { portRoutes } from './api/ports.ts';
import { qosPolicyRoutes } from './api/qos-policies.ts';
import { qosRuleTypeRoutes } from './api/qos-rule-types.ts';
import { qosRuleRoutes } from './api/qos-rules.ts';
import { quotaRoutes } from './api/quotas.ts';
import { ipAvailabilityRoutes } from './api/ip-availability.ts';
import { rbacPolicyRoutes } from './api/rbac-policies.ts';
import { routerRoutes } from './api/routers.ts';
import { securityGroupRuleRoutes } from './api/security-group-rules.ts';
import { securityGroupRoutes } from './api/security-groups.ts';
import { subnetRoutes } from './api/subnets.ts';
import { addressScopeRoutes } from './api/address-scopes.ts';
import { subnetPoolRoutes } from './api/subnet-pools.ts';
import { tagRoutes } from './api/tags.ts';
import { ClaimedAddresses } from './claimed-addresses.ts';
import type { NetworkDeps, NetworkSettings } from './deps.ts';
import type { HostPorts } from './host-ports.ts';
import { PortIndex } from './port-index.ts';
import { NetworkServer } from './server.ts';
import { NetworkStore } from './store.ts';

/** The default of `record_cache_ms`: a network or rule changed by another process is seen within 2 s. */
export const DEFAULT_RECORD_CACHE_MS = 2000;

export interface NetworkServiceOptions {
  /** This service's URL as clients reach it; empty: taken from each request's Host. */
  readonly publicUrl: string;
  /** Keystone's URL, for 401 answers. */
  readonly identityUrl: string;
  readonly settings: NetworkSettings;
  /** How long this process trusts its copy of networks, subnets, security groups and quotas (`NetworkStoreOptions.freshMs`). */
  readonly recordCacheMs?: number;
}

/**
 * The network service (Neutron's v2.0 API) put together: state in `records` (the service's
 * system account), tokens validated with `keys`, ports' hosts told through `hosts`.
 */
export class NetworkService {
  readonly deps: NetworkDeps;
  readonly server: NetworkServer;
  readonly revocations: RevocationList;

  constructor(options: NetworkServiceOptions, io: { records: RecordStore; keys: FernetKeys; clock: Clock; logger: Logger; hosts: HostPorts; random?: () => number; revocations?: RevocationList }) {
    this.revocations = io.revocations ?? new RevocationList();
    const validator = new TokenValidator(io.keys, this.revocations, io.clock);
    const freshMs = options.recordCacheMs ?? DEFAULT_RECORD_CACHE_MS;
    const store = new NetworkStore(io.records, { clock: io.clock, freshMs });
    this.deps = { store, claimed: new ClaimedAddresses(store, io.clock, freshMs), portIndex: new PortIndex(store), clock: io.clock, logger: io.logger, random: io.random ?? Math.random, settings: options.settings, hosts: io.hosts };
    const d = this.deps;
    const routes = [
      ...versionRoutes(),
      ...extensionRoutes(),
      ...networkRoutes(d),
      ...subnetRoutes(d),
      ...subnetPoolRoutes(d),
      ...addressScopeRoutes(d),
      ...portRoutes(d),
      ...securityGroupRoutes(d),
      ...securityGroupRuleRoutes(d),
      ...routerRoutes(d),
      ...floatingIpRoutes(d),
      ...quotaRoutes(d),
      ...ipAvailabilityRoutes(d),
      ...rbacPolicyRoutes(d),
      ...qosPolicyRoutes(d),
      ...qosRuleRoutes(d),
      ...qosRuleTypeRoutes(),
      ...tagRoutes(d),
    ];
    this.server = new NetworkServer({ publicUrl: options.publicUrl, identityUrl: options.identityUrl, routes }, { validator, logger: io.logger, clock: io.clock });
  }
}
