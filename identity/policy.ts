import type { ValidatedToken } from '../common/token/token-validator.ts';
import { forbiddenAction, unauthorized } from './errors.ts';
import type { IdentityRequest } from './request.ts';

/**
 * Keystone 22's default policies as a deployment without `enforce_scope` sees them: the
 * deprecated `admin_required` rule still applies, so the `admin` role on any scope may do
 * anything, and other users only what concerns themselves (their user, password, projects,
 * groups, application and EC2 credentials) or their token's project or domain.
 */
export function caller(req: IdentityRequest): ValidatedToken {
  if (!req.caller) throw unauthorized();
  return req.caller;
}

export function isAdmin(token: ValidatedToken): boolean {
  return token.roles.some((r) => r.name === 'admin');
}

/** Admins only. @throws 403 naming `action` (`identity:list_users`). */
export function requireAdmin(req: IdentityRequest, action: string): ValidatedToken {
  const token = caller(req);
  if (!isAdmin(token)) throw forbiddenAction(action);
  return token;
}

/** Admins, or the user the request is about. */
export function requireAdminOrUser(req: IdentityRequest, action: string, userId: string): ValidatedToken {
  const token = caller(req);
  if (!isAdmin(token) && token.userId !== userId) throw forbiddenAction(action);
  return token;
}

/** Admins, or a token scoped to this project. */
export function requireAdminOrProject(req: IdentityRequest, action: string, projectId: string): ValidatedToken {
  const token = caller(req);
  if (!isAdmin(token) && !(token.scope.kind === 'project' && token.scope.projectId === projectId)) throw forbiddenAction(action);
  return token;
}

/** Admins, or a token scoped to this domain or to a project in it. */
export function requireAdminOrDomain(req: IdentityRequest, action: string, domainId: string): ValidatedToken {
  const token = caller(req);
  const scope = token.scope;
  const inDomain = (scope.kind === 'domain' && scope.domainId === domainId) || (scope.kind === 'project' && scope.domainId === domainId);
  if (!isAdmin(token) && !inDomain) throw forbiddenAction(action);
  return token;
}

/** Keystone's `SYSTEM_READER`: the reader role (admin implies it) on a system-scoped token. */
export function isSystemReader(token: ValidatedToken): boolean {
  return token.scope.kind === 'system' && token.roles.some((r) => r.name === 'reader' || r.name === 'admin');
}

/** Keystone's `ADMIN_OR_SYSTEM_READER`. @throws 403 naming `action` */
export function requireAdminOrSystemReader(req: IdentityRequest, action: string): ValidatedToken {
  const token = caller(req);
  if (!isAdmin(token) && !isSystemReader(token)) throw forbiddenAction(action);
  return token;
}
