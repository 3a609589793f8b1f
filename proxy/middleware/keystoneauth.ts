import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { RevocationPoller } from '../../common/token/revocation-poller.ts';
import { RevocationList, type TokenFacts, tokenFacts } from '../../common/token/revocation.ts';
import { TokenRefusedError, TokenValidator } from '../../common/token/token-validator.ts';
import { IdentityRecords } from '../identity-records.ts';
import { KeystoneNames } from '../keystone-names.ts';
import type { Identity, Middleware, ProxyHandler, ProxyRequest } from '../request.ts';
import { type KeystoneAuthorizeDeps, type KeystoneIdentity, keystoneAuthorize, PROJECT_DOMAIN_SYSMETA } from './keystoneauth-authorize.ts';
import { type KeystoneauthConfig, keystoneauthSettings } from './keystoneauth-settings.ts';
import { headerOf } from './subresponse.ts';

/** How many validated tokens a proxy remembers (keystonemiddleware's token cache). */
const VALIDATED_TOKENS = 10_000;

/** Swift's `PROJECT_DOMAIN_ID_HEADER`: the account's project domain, shown on account responses. */
const PROJECT_DOMAIN_HEADER = 'X-Account-Project-Domain-Id';

export interface KeystoneauthDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The proxy's controllers, for its pre-authorized reads of the identity account. */
  readonly app: ProxyHandler;
  /** The account's info (existence and sysmeta), as the proxy caches it. */
  accountInfo(account: string, transId: string): Promise<{ readonly status: number; readonly sysmeta: Readonly<Record<string, string>> }>;
  /** Called once with the poller's stop, for the proxy's close. */
  onClose?(stop: () => Promise<void>): void;
}

interface Validated {
  readonly facts: TokenFacts;
  /** What keystoneauth reads (no service roles: those come with each request's service token). */
  readonly identity: KeystoneIdentity;
  /** The request env's identity (`.reseller_admin` for the reseller admin role, which account quotas read). */
  readonly envIdentity: Identity;
  /** Monotonic ms after which the token is opened again (keystonemiddleware's `token_cache_time`). */
  readonly recheckAt: number;
}

/**
 * Keystone tokens at the proxy: keystonemiddleware's `authtoken` and Swift's `keystoneauth` in
 * one, with the token validated here (`TokenValidator` over a copy of the identity service's
 * key repository) instead of by a call to Keystone. Revocation events are read every
 * `revocation_poll_interval` seconds from the identity account, and checked on every request,
 * so a revoked token is refused within seconds. A request with a valid Fernet token in
 * `X-Auth-Token` (or `X-Storage-Token`), and a valid `X-Service-Token` when it sends one, is
 * authorized by keystoneauth's rules (`keystoneAuthorize`); anything else (no token, a
 * tempauth token, an invalid or revoked one) goes on to tempauth, which answers for anonymous
 * requests as keystoneauth's `authorize_anonymous` would (ACL referrers, else 401).
 * Swift's keystoneauth adds nothing to `/info`, and neither does this.
 */
export function keystoneauth(config: KeystoneauthConfig, deps: KeystoneauthDeps): Middleware {
  const settings = keystoneauthSettings(config);
  if (config.is_admin) deps.logger.warn("The 'is_admin' option for keystoneauth is no longer supported. Remove the 'is_admin' option from your keystoneauth config");
  if (config.key_repository === '') return (next) => next;
  const { clock } = deps;
  const revocations = new RevocationList();
  const validator = new TokenValidator(new FernetKeyRepository(config.key_repository, clock), revocations, clock);
  const records = new IdentityRecords(deps.app, config.identity_account, deps);
  const names = new KeystoneNames(records, clock, config.token_cache_time * 1000);
  const poller = new RevocationPoller(records, revocations, deps, { intervalMs: config.revocation_poll_interval * 1000, maxTokenLifeMs: config.token_expiration * 1000 });
  const started = poller.start();
  deps.onClose?.(async () => {
    await started;
    await poller.stop();
  });

  // Opening a token costs an AES decryption and an HMAC; a client sends the same one with
  // every request. Expiry and revocation are still checked at every use.
  const validated = new Map<string, Validated>();
  const validate = (token: string): Validated | undefined => {
    const now = clock.now();
    const known = validated.get(token);
    if (known && known.recheckAt > clock.monotonic()) {
      if (known.facts.expiresAt <= now || revocations.revoked(known.facts)) return undefined;
      return known;
    }
    try {
      const t = validator.validate(token);
      const roles = t.roles.map((r) => r.name.toLowerCase());
      const projectId = t.scope.kind === 'project' ? t.scope.projectId : '';
      const v: Validated = {
        facts: tokenFacts(t, t.issuedAt),
        identity: { userId: t.userId, userDomainId: t.userDomainId, projectId, projectDomainId: t.scope.kind === 'project' ? t.scope.domainId : '', roles, serviceRoles: [] },
        envIdentity: { user: t.userId, account: `${settings.prefixes[0] ?? ''}${projectId}`, groups: roles.includes(settings.resellerAdminRole) ? ['.reseller_admin'] : [] },
        recheckAt: clock.monotonic() + config.token_cache_time * 1000,
      };
      validated.delete(token);
      if (validated.size >= VALIDATED_TOKENS) validated.delete(validated.keys().next().value as string);
      validated.set(token, v);
      return v;
    } catch (err) {
      if (err instanceof TokenRefusedError) return undefined;
      throw err;
    }
  };

  const authorizeDeps = (transId: string): KeystoneAuthorizeDeps => ({
    accountDomain: async (account: string) => {
      const info = await deps.accountInfo(account, transId);
      return { exists: info.status >= 200 && info.status < 300, domainId: info.sysmeta['project-domain-id'] };
    },
    names: async (identity: KeystoneIdentity) => {
      const [user, project] = await Promise.all([names.user(identity.userId), names.project(identity.projectId)]);
      return { user, project };
    },
  });

  /** Sets the request's identity and authorizer when it carries a valid Keystone token (and a valid service token if any). */
  const identify = (req: ProxyRequest): void => {
    // A request a middleware before auth already authorized (a TempURL's): Swift's swift.authorize_override.
    if (settings.allowOverrides && req.env.authorize !== undefined) return;
    const token = req.headers['x-auth-token'] ?? req.headers['x-storage-token'];
    if (token === undefined || !isFernet(token)) return;
    const user = validate(token);
    if (!user) return;
    let identity = user.identity;
    const serviceToken = req.headers['x-service-token'];
    if (serviceToken !== undefined && serviceToken !== '') {
      // An invalid service token makes the whole identity unconfirmed (keystonemiddleware's X-Service-Identity-Status).
      const service = isFernet(serviceToken) ? validate(serviceToken) : undefined;
      if (!service) return;
      identity = { ...identity, serviceRoles: service.identity.roles };
    }
    req.env.identity = user.envIdentity;
    let kdeps: KeystoneAuthorizeDeps | undefined;
    req.env.authorize = (request) => keystoneAuthorize(identity, request, req, settings, (kdeps ??= authorizeDeps(req.env.transId)));
  };

  return (next) => async (req) => {
    identify(req);
    const response = await next(req);
    // Swift's keystone_start_response: an account's recorded project domain, for its readers.
    if (ACCOUNT_PATH.test(req.path)) {
      const domain = headerOf(response, PROJECT_DOMAIN_SYSMETA);
      if (domain !== undefined) return { ...response, headers: { ...response.headers, [PROJECT_DOMAIN_HEADER]: domain } };
    }
    return response;
  };
}

const ACCOUNT_PATH = /^\/[^/]+\/[^/]+\/?$/;

/** A Fernet token (version byte 0x80, base64url): only these are keystoneauth's to judge. */
function isFernet(token: string): boolean {
  return token.startsWith('gAAAAA');
}
