import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { TokenValidator } from '../common/token/token-validator.ts';
import type { RoleResolver } from './assignments.ts';
import type { Revocations } from './revocations.ts';
import type { IdentityStore } from './store.ts';
import type { TokenIssuer } from './token-issuer.ts';

/** What identity's API handlers work with. */
export interface IdentityDeps {
  readonly store: IdentityStore;
  readonly resolver: RoleResolver;
  readonly issuer: TokenIssuer;
  readonly validator: TokenValidator;
  readonly revocations: Revocations;
  readonly clock: Clock;
  readonly logger: Logger;
  /** log2 of scrypt's N for new password and secret hashes. */
  readonly passwordHashRounds: number;
}
