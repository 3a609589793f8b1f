import type { Clock } from '../common/clock.ts';
import { int, num, type Schema, str } from '../common/config.ts';
import type { Logger } from '../common/logger.ts';
import type { FernetKeys } from '../common/token/key-repository.ts';
import { authenticate, type RequestContext } from '../common/token/request-context.ts';
import { RevocationList } from '../common/token/revocation.ts';
import { RevocationPoller } from '../common/token/revocation-poller.ts';
import { TokenValidator } from '../common/token/token-validator.ts';
import type { SwiftClient } from './swift-client.ts';
import { DEFAULT_IDENTITY_ACCOUNT, SwiftRevocationSource } from './swift-revocation-source.ts';

/**
 * The config keys every service that accepts Keystone tokens has (`[image]`, `[network]`,
 * `[compute]`, `[volume]`), read by `serviceTokensOptions`.
 */
export const serviceTokensSchema = {
  key_repository: str('/etc/swiftlet/fernet-keys', { doc: "identity's Fernet key repository (a copy of it), to validate tokens", nonEmpty: true }),
  identity_account: str('AUTH_.identity', { doc: "identity's system account, where revocation events are read", nonEmpty: true }),
  token_expiration: int(3600, { min: 60, doc: "identity's token_expiration: how far back revocation events are read" }),
  revocation_poll_interval: num(2, { min: 0.1, doc: 'seconds between looks for new revocation events' }),
} as const satisfies Schema;

/** `ServiceTokens`' options from a service's `serviceTokensSchema` keys. */
export function serviceTokensOptions(c: { identity_account: string; token_expiration: number; revocation_poll_interval: number }): ServiceTokensOptions {
  return { pollIntervalMs: c.revocation_poll_interval * 1000, maxTokenLifeMs: c.token_expiration * 1000, identityAccount: c.identity_account };
}

export interface ServiceTokensOptions {
  /** Seconds between looks for new revocation events (identity's `revocation_poll_interval`). */
  readonly pollIntervalMs: number;
  /** The longest a token lives (identity's `token_expiration`): how far back the first pass reads. */
  readonly maxTokenLifeMs: number;
  /** The identity service's account (`AUTH_.identity`). */
  readonly identityAccount?: string;
}

/**
 * What a service process (image, network, compute, volume) needs to accept Keystone tokens on
 * its own: a validator over the Fernet key repository identity uses, and a revocation list kept
 * current by a poller reading identity's `revoke-events` with the service's own cluster
 * credential. `start()` reads the events once before the service answers (a token revoked
 * before the service started is refused from its first request) and keeps polling.
 */
export class ServiceTokens {
  readonly validator: TokenValidator;
  readonly revocations = new RevocationList();
  private readonly poller: RevocationPoller;

  constructor(io: { keys: FernetKeys; client: SwiftClient; clock: Clock; logger: Logger }, options: ServiceTokensOptions) {
    this.validator = new TokenValidator(io.keys, this.revocations, io.clock);
    const source = new SwiftRevocationSource(io.client, options.identityAccount ?? DEFAULT_IDENTITY_ACCOUNT);
    this.poller = new RevocationPoller(source, this.revocations, { clock: io.clock, logger: io.logger }, { intervalMs: options.pollIntervalMs, maxTokenLifeMs: options.maxTokenLifeMs });
  }

  /** The context of the request's `X-Auth-Token` (see `authenticate`). @throws {TokenRefusedError} */
  context(headers: Readonly<Record<string, string | undefined>>): RequestContext | undefined {
    return authenticate(this.validator, headers);
  }

  /** One pass now (tests; a process that must be current before it answers). */
  poll(): Promise<void> {
    return this.poller.poll();
  }

  start(): Promise<void> {
    return this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}
