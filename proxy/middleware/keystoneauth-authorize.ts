import { HttpError } from '../../common/http/http-error.ts';
import { parseAcl, referrerAllowed } from '../acl.ts';
import type { AuthDecision, AuthorizeRequest } from '../request.ts';
import type { KeystoneauthSettings } from './keystoneauth-settings.ts';

/** Swift's `PROJECT_DOMAIN_ID_SYSMETA_HEADER`: the domain of the project that owns an account. */
export const PROJECT_DOMAIN_SYSMETA = 'x-account-sysmeta-project-domain-id';
/** Swift's `UNKNOWN_ID`: an account made by someone other than its project. */
export const UNKNOWN_DOMAIN_ID = '_unknown';

/** What keystonemiddleware's headers tell keystoneauth about a validated token, here from the token itself. */
export interface KeystoneIdentity {
  readonly userId: string;
  readonly userDomainId: string;
  readonly projectId: string;
  readonly projectDomainId: string;
  /** Role names, lower-case. */
  readonly roles: readonly string[];
  /** The roles of a valid `X-Service-Token`, lower-case (none without one). */
  readonly serviceRoles: readonly string[];
}

export interface KeystoneAuthorizeDeps {
  /** The account's existence and its `project-domain-id` sysmeta (Swift's `_get_project_domain_id`). */
  accountDomain(account: string): Promise<{ readonly exists: boolean; readonly domainId: string | undefined }>;
  /** The user's and project's names, for ACLs that name them (undefined when unknown). */
  names(identity: KeystoneIdentity): Promise<{ readonly user: string | undefined; readonly project: string | undefined }>;
}

/** The parts of the client's request the rules read, and its headers (the domain sysmeta is added to them). */
export interface KeystoneAuthorizeContext {
  readonly headers: Record<string, string | undefined>;
}

/**
 * Swift 2.30 keystoneauth's `authorize` for a confirmed identity, rule for rule: OPTIONS; the
 * project's domain recorded on account and container creation; the reseller admin role owns
 * everything; system readers read; nobody deletes their own account; container ACL entries
 * `project:user` (ids, `*`, and names when both are in the default domain); container-sync
 * and referrer rules; then the account must be the project's (`<prefix><project_id>`), where
 * an operator role (with a service token's service role when the prefix asks for one) owns it
 * and a project reader reads; last, a role named in the ACL. Refusals are 403 (the user is known).
 */
export async function keystoneAuthorize(identity: KeystoneIdentity, request: AuthorizeRequest, req: KeystoneAuthorizeContext, settings: KeystoneauthSettings, deps: KeystoneAuthorizeDeps): Promise<AuthDecision> {
  const { method, account, container, object } = request;
  const denied = (): AuthDecision => ({ denied: new HttpError(403) });
  if (method === 'OPTIONS') return { owner: false };
  if (writesAccount(request) && req.headers[PROJECT_DOMAIN_SYSMETA] === undefined) await setProjectDomain(identity, request, req, settings, deps);
  const roles = identity.roles;
  if (roles.includes(settings.resellerAdminRole)) return { owner: true };
  if ((method === 'GET' || method === 'HEAD') && roles.some((r) => settings.systemReaderRoles.has(r))) return { owner: false };
  if (container === undefined && object === undefined && method === 'DELETE') return denied();

  const acl = parseAcl(request.acl);
  if (acl.groups.length > 0 && (await aclNamesUser(identity, request, acl.groups, settings, deps))) return { owner: false };
  const unconfirmed = unconfirmedIdentityAllowed(request, req, acl);
  if (unconfirmed === true) return { owner: false };

  if (!accountOfProject(account, identity.projectId, settings)) return denied();
  const prefix = prefixOf(account, settings.prefixes);
  const rules = prefix === undefined ? undefined : settings.rules.get(prefix);
  if (rules) {
    const operator = rules.operatorRoles.some((r) => roles.includes(r));
    const service = rules.serviceRoles.some((r) => identity.serviceRoles.includes(r));
    if (operator && (rules.serviceRoles.length === 0 || service)) return { owner: true };
    if ((method === 'GET' || method === 'HEAD') && rules.projectReaderRoles.some((r) => roles.includes(r))) return { owner: false };
  }
  if (unconfirmed === false) return denied();
  const aclRoles = acl.groups.map((g) => g.toLowerCase());
  if (roles.some((r) => aclRoles.includes(r))) return { owner: false };
  return denied();
}

/**
 * Swift's `_authorize_unconfirmed_identity`, shared with anonymous requests: a container-sync
 * write with the container's key and its own timestamp; a referrer the read ACL allows (for
 * objects, or listings with `.rlistings`). True: allowed; false: a referrer matched but may not
 * list; undefined: no say.
 */
export function unconfirmedIdentityAllowed(request: AuthorizeRequest, req: KeystoneAuthorizeContext, acl: ReturnType<typeof parseAcl>): boolean | undefined {
  const sentKey = req.headers['x-container-sync-key'];
  if (request.syncKey !== undefined && request.syncKey !== '' && sentKey === request.syncKey && req.headers['x-timestamp'] !== undefined) return true;
  if (referrerAllowed(request.referer, acl.referrers)) return request.object !== undefined || acl.groups.includes('.rlistings');
  return undefined;
}

/**
 * Swift's `_authorize_cross_tenant`: an ACL entry `project:user` where each side is the id, `*`,
 * or (when `_is_name_allowed_in_acl`) the name. Names are looked up only when ids do not match.
 */
async function aclNamesUser(identity: KeystoneIdentity, request: AuthorizeRequest, entries: readonly string[], settings: KeystoneauthSettings, deps: KeystoneAuthorizeDeps): Promise<boolean> {
  const matches = (projects: readonly string[], users: readonly string[]): boolean => projects.some((p) => users.some((u) => entries.includes(`${p}:${u}`)));
  if (matches([identity.projectId, '*'], [identity.userId, '*'])) return true;
  if (!(await namesAllowed(identity, request, settings, deps))) return false;
  const names = await deps.names(identity);
  const projects = [identity.projectId, '*', ...(names.project !== undefined ? [names.project] : [])];
  const users = [identity.userId, '*', ...(names.user !== undefined ? [names.user] : [])];
  return matches(projects, users);
}

/**
 * Swift's `_is_name_allowed_in_acl`: names are unique only within a domain, so they count only
 * for a user and project of the default domain, on their own account or one whose project is
 * of the default domain (or not recorded).
 */
async function namesAllowed(identity: KeystoneIdentity, request: AuthorizeRequest, settings: KeystoneauthSettings, deps: KeystoneAuthorizeDeps): Promise<boolean> {
  if (!settings.allowNamesInAcls) return false;
  if (identity.userDomainId !== '' && identity.userDomainId !== settings.defaultDomainId) return false;
  if (identity.projectDomainId !== '' && identity.projectDomainId !== settings.defaultDomainId) return false;
  if (accountOfProject(request.account, identity.projectId, settings)) return true;
  const { exists, domainId } = await deps.accountDomain(request.account);
  return exists && (domainId === undefined || domainId === settings.defaultDomainId);
}

/**
 * Swift's `_set_project_domain_id`: on an account PUT or POST, or a container PUT (which may
 * create the account), record the owning project's domain in the account's sysmeta when it is
 * not known yet; an account made by someone else's token gets `_unknown`, replaced by the
 * domain when its own project writes to it.
 */
async function setProjectDomain(identity: KeystoneIdentity, request: AuthorizeRequest, req: KeystoneAuthorizeContext, settings: KeystoneauthSettings, deps: KeystoneAuthorizeDeps): Promise<void> {
  const { exists, domainId } = await deps.accountDomain(request.account);
  const own = accountOfProject(request.account, identity.projectId, settings);
  const tokenDomain = own ? identity.projectDomainId : undefined;
  let value: string | undefined;
  if (!exists) value = own ? (tokenDomain ?? '') : UNKNOWN_DOMAIN_ID;
  else if (domainId === undefined && tokenDomain === settings.defaultDomainId) value = tokenDomain;
  else if (domainId === UNKNOWN_DOMAIN_ID && own) value = tokenDomain ?? '';
  if (value !== undefined) req.headers[PROJECT_DOMAIN_SYSMETA] = value;
}

/** An account PUT or POST, or a container PUT: the requests that may make or change the account. */
function writesAccount({ method, container, object }: AuthorizeRequest): boolean {
  return object === undefined && (method === 'PUT' || (method === 'POST' && container === undefined));
}

/**
 * Swift's `_account_matches_tenant`: the account is `<prefix><project_id>` for one of the
 * prefixes. A token with no project (domain, system or unscoped) owns no account.
 */
export function accountOfProject(account: string, projectId: string, settings: KeystoneauthSettings): boolean {
  return projectId !== '' && settings.prefixes.some((prefix) => `${prefix}${projectId}` === account);
}

/** Swift's `_get_account_prefix`: the non-empty prefix the account starts with, else `''` when that is one. */
export function prefixOf(account: string, prefixes: readonly string[]): string | undefined {
  for (const prefix of prefixes) if (prefix !== '' && account.startsWith(prefix)) return prefix;
  return prefixes.includes('') ? '' : undefined;
}
