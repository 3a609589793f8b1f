import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import type { ConfigOf } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { ACCOUNT_ACL_SYSMETA, accountAclsFromSysmeta, formatAccountAcl, parseAccountAcl } from '../account-acl.ts';
import { parseAcl, referrerAllowed } from '../acl.ts';
import type { tempauthSchema } from '../config.ts';
import { pythonRepr } from '../python-repr.ts';
import type { AuthDecision, AuthorizeRequest, Identity, Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { type TempauthSettings, type TempauthUser, tempauthSettings } from './tempauth-settings.ts';

export interface TempauthDeps {
  readonly clock: Clock;
  /**
   * The account's system metadata (its ACL), read from the account servers, not from a
   * worker's cache: an ACL granted or revoked through one proxy worker holds at once on all.
   */
  accountSysmeta(account: string, transId: string): Promise<Readonly<Record<string, string>>>;
}

/** How many verified tokens a proxy remembers. */
const VERIFIED_TOKENS = 10_000;

/** The account ACL levels tempauth knows; any other key in `X-Account-Access-Control` is a 400. */
const ACL_LEVELS = ['admin', 'read-write', 'read-only'] as const;

/**
 * v1 auth with users in config (Swift's tempauth):
 * - `GET /auth/v1.0` with `X-Auth-User: account:user` and `X-Auth-Key` (or `X-Storage-User`,
 *   `X-Storage-Pass`) answers `X-Auth-Token`, `X-Storage-Token`, `X-Storage-Url`,
 *   `X-Auth-Token-Expires`.
 * - Tokens are `AUTH_tk<payload>.<signature>`: the user's groups and expiry, signed with HMAC
 *   SHA-256 under the cluster secret, so every proxy checks any token without a shared cache.
 *   A bad or expired token is 401.
 * - Groups, as Swift's: `account`, `account:user`, the configured ones; `.admin` becomes the
 *   account under every reseller prefix (`AUTH_test`, `SERVICE_test`). An `X-Service-Token`
 *   adds its user's groups to those of `X-Auth-Token`.
 * - Who may do what (`authorize`): reseller admins anything outside dot-accounts, reseller
 *   readers GET/HEAD; an account's admins anything but PUT/DELETE of the account itself when
 *   they also hold the prefix's `require_group` (`SERVICE_require_group = service`: only with
 *   a service token); OPTIONS anyone; then container ACLs (referrers, users, groups); then
 *   account ACLs (`X-Account-Access-Control`: admin = owner, read-write = any container or
 *   object request and account reads, read-only = reads). Denied: 403 with a token, else 401.
 * - An `X-Account-Access-Control` header on a request for one of its accounts must be a JSON
 *   object of those levels, each a list of strings (400 otherwise); it travels on as the
 *   account's `X-Account-Sysmeta-Core-Access-Control`.
 */
export function tempauth(config: ConfigOf<typeof tempauthSchema>, secret: string, deps: TempauthDeps, capabilities: Capabilities): Middleware {
  const settings = tempauthSettings(config);
  const { clock } = deps;
  const key = createHmac('sha256', secret).update('swiftlet tempauth').digest();
  capabilities['tempauth'] = { account_acls: true };

  const sign = (payload: string): string => createHmac('sha256', key).update(payload).digest('base64url');
  const issue = (u: TempauthUser, accountId: string): { token: string; expires: number } => {
    const expires = Math.floor(clock.now() / 1000) + config.token_life;
    const payload = Buffer.from(JSON.stringify({ u: `${u.account}:${u.user}`, a: accountId, g: userGroups(u, accountId, settings), e: expires })).toString('base64url');
    return { token: `${settings.tokenPrefix}tk${payload}.${sign(payload)}`, expires };
  };
  // Verified tokens, so a client's every request does not pay for an HMAC: a bounded map,
  // oldest dropped first. Expiry is still checked on every use.
  const verified = new Map<string, { identity: Identity; expiresMs: number }>();
  const verify = (token: string): Identity | undefined => {
    const known = verified.get(token);
    if (known) {
      if (known.expiresMs > clock.now()) return known.identity;
      verified.delete(token);
      return undefined;
    }
    const identity = verifySignature(token);
    if (identity) {
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value as string);
      verified.set(token, identity);
      return identity.identity;
    }
    return undefined;
  };
  const verifySignature = (token: string): { identity: Identity; expiresMs: number } | undefined => {
    if (!token.startsWith(`${settings.tokenPrefix}tk`)) return undefined;
    const [payload, signature] = token.slice(settings.tokenPrefix.length + 2).split('.');
    if (!payload || !signature) return undefined;
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u: string; a: string; g: string[]; e: number };
    if (data.e * 1000 <= clock.now()) return undefined;
    return { identity: { user: data.u, account: data.a, groups: data.g }, expiresMs: data.e * 1000 };
  };
  const authorizer = (req: ProxyRequest) => (request: AuthorizeRequest) => authorize(req, request, settings, deps);
  const unauthorized = (account: string) => async (): Promise<AuthDecision> => ({ denied: deniedError(false, account) });

  return (next) => async (req) => {
    if (req.path === '/auth/v1.0' || req.path === '/v1.0' || /^\/(auth\/)?v1\/[^/]+\/auth$/.test(req.path)) return getToken(req, settings, issue, clock);
    // A request already authorized (a TempURL's) is left alone, as Swift's `swift.authorize_override`.
    if (req.env.authorize !== undefined) return next(req);
    const token = req.headers['x-auth-token'] ?? req.headers['x-storage-token'];
    if (token !== undefined && token !== '' && token.startsWith(settings.tokenPrefix)) {
      const identity = verify(token);
      if (!identity) {
        // Checked when a controller authorizes, so subrequests of bulk (before auth) see it too.
        req.env.authorize = unauthorized(accountOf(req.path) ?? 'unknown');
        return next(req);
      }
      const serviceToken = req.headers['x-service-token'];
      const service = serviceToken !== undefined && serviceToken !== '' ? verify(serviceToken) : undefined;
      req.env.identity = service ? { ...identity, groups: [...identity.groups, ...service.groups] } : identity;
    } else {
      const account = accountOf(req.path);
      if (account === undefined || prefixOf(account, settings.prefixes) === undefined) {
        // Not this auth's token nor one of its accounts: nothing it can grant.
        req.env.authorize = unauthorized(account ?? 'unknown');
        return next(req);
      }
    }
    req.env.authorize = authorizer(req);
    if (req.headers['x-account-access-control'] !== undefined) {
      const account = accountOf(req.path);
      if (account !== undefined && prefixOf(account, settings.prefixes) !== undefined) moveAccountAcl(req);
    }
    return next(req);
  };
}

/** Tokens for `GET /auth/v1.0` (and the older `/v1/<account>/auth`). */
function getToken(req: ProxyRequest, settings: TempauthSettings, issue: (u: TempauthUser, accountId: string) => { token: string; expires: number }, clock: Clock): ServerResponse {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, undefined, { Allow: 'GET' });
  const name = req.headers['x-auth-user'] ?? req.headers['x-storage-user'] ?? '';
  const pass = req.headers['x-auth-key'] ?? req.headers['x-storage-pass'] ?? '';
  const user = settings.users.get(name);
  if (!user || !safeEqual(user.key, pass)) throw new HttpError(401, undefined, { 'Www-Authenticate': 'Swift realm="unknown"' });
  const accountId = user.url.slice(user.url.lastIndexOf('/') + 1);
  const { token, expires } = issue(user, accountId);
  const host = req.headers['host'] ?? '127.0.0.1';
  return {
    status: 200,
    headers: { 'X-Auth-Token': token, 'X-Storage-Token': token, 'X-Storage-Url': user.url.replace('$HOST', `http://${host}`), 'X-Auth-Token-Expires': String(expires - Math.floor(clock.now() / 1000)), 'Content-Type': 'text/plain; charset=UTF-8' },
    body: '',
  };
}

/**
 * Swift tempauth's `authorize`, for the env of `req`. Account ACLs are read only when nothing
 * else allowed the request, so an owner's requests cost no account lookup.
 */
async function authorize(req: ProxyRequest, request: AuthorizeRequest, settings: TempauthSettings, deps: TempauthDeps): Promise<AuthDecision> {
  const identity = req.env.identity;
  const { account, method } = request;
  const prefix = prefixOf(account, settings.prefixes);
  const denied = (): AuthDecision => ({ denied: deniedError(identity !== undefined, account) });
  if (prefix === undefined) return denied();
  const groups = identity?.groups ?? [];
  const resellerScope = !settings.prefixes.includes(account) && account[prefix.length] !== '.';
  if (groups.includes('.reseller_admin') && resellerScope) return { owner: true };
  if (groups.includes('.reseller_reader') && resellerScope && (method === 'GET' || method === 'HEAD')) return { owner: false };
  if (groups.includes(account) && (!['PUT', 'DELETE'].includes(method) || request.container !== undefined)) {
    const required = settings.requireGroup.get(prefix) ?? '';
    if (required === '' || groups.includes(required)) return { owner: true };
  }
  // A container-sync write with the container's key and its own X-Timestamp (Swift's sync-key
  // path; with the gatekeeper shunting client timestamps, as by default, it never has one).
  const sentKey = req.headers['x-container-sync-key'];
  if (request.syncKey && sentKey !== undefined && safeEqual(request.syncKey, sentKey) && req.headers['x-timestamp'] !== undefined) return { owner: false };
  if (method === 'OPTIONS') return { owner: false };
  const acl = parseAcl(request.acl);
  if (referrerAllowed(request.referer, acl.referrers) && (request.object !== undefined || acl.groups.includes('.rlistings'))) return { owner: false };
  if (groups.some((g) => acl.groups.includes(g))) return { owner: false };
  const acls = accountAclsFromSysmeta(await deps.accountSysmeta(account, req.env.transId));
  if (acls) {
    const member = (level: readonly string[]): boolean => groups.some((g) => level.includes(g));
    if (member(acls.admin)) return { owner: true };
    // read-write: anything in the containers, but only reads of the account itself.
    if (member(acls['read-write']) && (request.container !== undefined || method === 'GET' || method === 'HEAD')) return { owner: false };
    if (member(acls['read-only']) && (method === 'GET' || method === 'HEAD')) return { owner: false };
  }
  return denied();
}

/** Swift's `denied_response`: 403 for a known user, 401 (with the account as realm) for none. */
function deniedError(known: boolean, account: string): HttpError {
  return known ? new HttpError(403) : new HttpError(401, undefined, { 'Www-Authenticate': `Swift realm="${encodeURIComponent(account)}"` });
}

/**
 * Swift tempauth's `extract_acl_and_report_errors`: a valid `X-Account-Access-Control` becomes
 * the account sysmeta that keeps it.
 * @throws {HttpError} 400 naming the problem and echoing the input.
 */
function moveAccountAcl(req: ProxyRequest): void {
  const data = req.headers['x-account-access-control'];
  if (data === undefined) return;
  const problem = accountAclProblem(data);
  if (problem !== undefined) throw new HttpError(400, `X-Account-Access-Control invalid: ${problem}\n\nInput: ${data}\n`);
  delete req.headers['x-account-access-control'];
  req.headers[`x-account-sysmeta-${ACCOUNT_ACL_SYSMETA}`] = data;
}

function accountAclProblem(data: string): string | undefined {
  const acl = parseAccountAcl(data);
  if (acl === undefined) return `Syntax error in input (${pythonRepr(data)})`;
  for (const key of Object.keys(acl)) {
    if (!(ACL_LEVELS as readonly string[]).includes(key)) return `Key ${formatAccountAcl(key)} not recognized`;
  }
  for (const level of ACL_LEVELS) {
    if (!(level in acl)) continue;
    const grantees = acl[level];
    if (!Array.isArray(grantees)) return `Value for key ${formatAccountAcl(level)} must be a list`;
    if (grantees.some((g) => typeof g !== 'string')) return `Elements of ${formatAccountAcl(level)} list must be strings`;
  }
  return undefined;
}

/**
 * Swift's `_get_user_groups`: `account`, `account:user`, the configured groups; `.admin`
 * becomes the account under each reseller prefix, and the account of the user's storage URL.
 */
export function userGroups(u: TempauthUser, accountId: string, settings: TempauthSettings): string[] {
  const groups = [u.account, `${u.account}:${u.user}`, ...u.groups];
  const admin = groups.indexOf('.admin');
  if (admin !== -1) {
    groups.splice(admin, 1);
    for (const prefix of settings.prefixes) if (prefix !== '') groups.push(`${prefix}${u.account}`);
    if (!groups.includes(accountId)) groups.push(accountId);
  }
  return groups;
}

/** Swift's `_get_account_prefix`: the reseller prefix an account name starts with (non-empty ones first). */
function prefixOf(account: string, prefixes: readonly string[]): string | undefined {
  for (const prefix of prefixes) if (prefix !== '' && account.startsWith(prefix)) return prefix;
  return prefixes.includes('') ? '' : undefined;
}

/** The account of `/v1/<account>[/...]`, decoded; undefined for other paths. */
function accountOf(path: string): string | undefined {
  const segment = /^\/[^/]+\/([^/]+)/.exec(path)?.[1];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
