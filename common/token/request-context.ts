import type { TokenPayload } from './token-payload.ts';
import { TokenRefusedError, type TokenValidator, type ValidatedToken } from './token-validator.ts';

/** keystonemiddleware's `service_token_roles` default: a service token must have one of these. */
export const SERVICE_TOKEN_ROLES: readonly string[] = ['service'];

/**
 * keystonemiddleware's check of a user's token beside a service's (`X-Service-Token`, which Nova
 * and Cinder send with the user's token when they call another service on a user's behalf):
 * when the service token is valid and has a `SERVICE_TOKEN_ROLES` role, the user's token is
 * accepted past its expiry (within Keystone's allow-expired window), so work queued before it
 * expired can still finish; revoked is refused either way. An invalid or role-less service
 * token allows nothing more (keystonemiddleware's `service_token_roles_required`).
 * @throws {TokenRefusedError} for a user's token that is invalid, expired or revoked.
 */
export function validateUserToken(validator: TokenValidator, token: string, serviceToken: string | undefined): ValidatedToken {
  let allowExpired = false;
  if (serviceToken !== undefined && serviceToken !== '') {
    try {
      const service = validator.validate(serviceToken);
      allowExpired = service.roles.some((r) => SERVICE_TOKEN_ROLES.includes(r.name.toLowerCase()));
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) throw err;
    }
  }
  return validator.validate(token, { allowExpired });
}

/**
 * Who is asking, as oslo.context's `RequestContext` gives it to Glance, Nova, Neutron and Cinder
 * after keystonemiddleware validated the token: the user and their domain, the project (the
 * owner of what they create) and its domain, the role names, whether the token is system
 * scoped, and `is_admin`, which the services' default `context_is_admin` rule (`role:admin`)
 * makes true for the `admin` role on any scope. oslo.policy compares role names without case,
 * so `Admin` counts too.
 */
export interface RequestContext {
  readonly userId: string;
  readonly userDomainId: string;
  /** The token's project (undefined when the token is not project scoped). */
  readonly projectId?: string;
  readonly projectDomainId?: string;
  /** The domain of a domain-scoped token. */
  readonly domainId?: string;
  readonly systemScope: boolean;
  /** Role names, lower-cased as oslo.policy compares them. */
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  /** The token itself, for calls to other services on the caller's behalf. */
  readonly authToken: string;
  /** When the token expires (ms). */
  readonly expiresAt: number;
}

/** The context of a validated token. */
export function contextFromToken(token: TokenPayload, authToken: string): RequestContext {
  const roles = token.roles.map((r) => r.name.toLowerCase());
  const scope = token.scope;
  return {
    userId: token.userId,
    userDomainId: token.userDomainId,
    ...(scope.kind === 'project' ? { projectId: scope.projectId, projectDomainId: scope.domainId } : {}),
    ...(scope.kind === 'domain' ? { domainId: scope.domainId } : {}),
    systemScope: scope.kind === 'system',
    roles,
    isAdmin: roles.includes('admin'),
    authToken,
    expiresAt: token.expiresAt,
  };
}

/** Whether the context has `role` (oslo.policy's `role:<name>`, without case). */
export function hasRole(context: RequestContext, role: string): boolean {
  return context.roles.includes(role.toLowerCase());
}

/**
 * keystonemiddleware's step for a service: the request's `X-Auth-Token` validated locally and
 * turned into a context. `undefined` when the request has no token (the service answers its
 * own 401, as keystonemiddleware does with `delay_auth_decision` off). An `X-Service-Token`
 * beside it is judged as `validateUserToken` says.
 * @throws {TokenRefusedError} (token-validator.ts) for a token that is invalid, expired or revoked.
 */
export function authenticate(validator: TokenValidator, headers: Readonly<Record<string, string | undefined>>): RequestContext | undefined {
  const token = headers['x-auth-token'] ?? headers['x-storage-token'];
  if (token === undefined || token === '') return undefined;
  const validated = validateUserToken(validator, token, headers['x-service-token']);
  return contextFromToken(validated, token);
}

