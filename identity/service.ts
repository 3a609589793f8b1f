import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { FernetKeys } from '../common/token/key-repository.ts';
import { TokenValidator } from '../common/token/token-validator.ts';
import type { RecordStore } from '../client/record-store.ts';
import { applicationCredentialRoutes } from './api/application-credentials.ts';
import { authRoutes } from './api/auth.ts';
import { catalogAdminRoutes } from './api/catalog-admin.ts';
import { credentialRoutes } from './api/credentials.ts';
import { discoveryRoutes } from './api/discovery.ts';
import { domainRoutes } from './api/domains.ts';
import { grantRoutes } from './api/grants.ts';
import { groupRoutes } from './api/groups.ts';
import { identityProviderRoutes } from './api/identity-providers.ts';
import { limitRoutes } from './api/limits.ts';
import { projectEndpointRoutes } from './api/project-endpoints.ts';
import { projectRoutes } from './api/projects.ts';
import { registeredLimitRoutes } from './api/registered-limits.ts';
import { roleAssignmentRoutes } from './api/role-assignments.ts';
import { roleRoutes } from './api/roles.ts';
import { serviceProviderRoutes } from './api/service-providers.ts';
import { userRoutes } from './api/users.ts';
import { RoleResolver } from './assignments.ts';
import type { IdentityDeps } from './deps.ts';
import { Revocations } from './revocations.ts';
import { IdentityServer } from './server.ts';
import { IdentityStore } from './store.ts';
import { TokenIssuer } from './token-issuer.ts';

export interface IdentityServiceOptions {
  /** This service's URL as clients reach it; empty: taken from each request's Host. */
  readonly publicUrl: string;
  readonly tokenExpirationSeconds: number;
  readonly passwordHashRounds: number;
  readonly revocationPollMs: number;
}

/**
 * The identity service put together: its state in `records`, tokens under `keys`, the API's
 * routes behind one `IdentityServer`. `start()` reads the revocation events and keeps polling
 * for new ones; `close()` stops that.
 */
export class IdentityService {
  readonly deps: IdentityDeps;
  readonly server: IdentityServer;

  constructor(options: IdentityServiceOptions, io: { records: RecordStore; keys: FernetKeys; clock: Clock; logger: Logger }) {
    const store = new IdentityStore(io.records, io.clock);
    const resolver = new RoleResolver(store);
    const revocations = new Revocations(io.records, { clock: io.clock, logger: io.logger }, { intervalMs: options.revocationPollMs, maxTokenLifeMs: options.tokenExpirationSeconds * 1000 });
    const validator = new TokenValidator(io.keys, revocations.list, io.clock);
    const issuer = new TokenIssuer({ store, resolver, keys: io.keys, validator, revocations, clock: io.clock, expirationSeconds: options.tokenExpirationSeconds });
    this.deps = { store, resolver, issuer, validator, revocations, clock: io.clock, logger: io.logger, passwordHashRounds: options.passwordHashRounds };
    const d = this.deps;
    const routes = [
      ...discoveryRoutes(),
      ...authRoutes(d),
      ...domainRoutes(d),
      ...projectRoutes(d),
      ...userRoutes(d),
      ...groupRoutes(d),
      ...roleRoutes(d),
      ...grantRoutes(d),
      ...roleAssignmentRoutes(d),
      ...catalogAdminRoutes(d),
      ...applicationCredentialRoutes(d),
      ...credentialRoutes(d),
      ...registeredLimitRoutes(d),
      ...limitRoutes(d),
      ...projectEndpointRoutes(d),
      ...identityProviderRoutes(d),
      ...serviceProviderRoutes(d),
    ];
    this.server = new IdentityServer({ publicUrl: options.publicUrl, routes }, { validator, logger: io.logger, clock: io.clock });
  }

  start(): Promise<void> {
    return this.deps.revocations.start();
  }

  close(): Promise<void> {
    return this.deps.revocations.stop();
  }
}
