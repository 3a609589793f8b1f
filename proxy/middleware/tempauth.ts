import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import type { ConfigOf } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { parseAcl, referrerAllowed } from '../acl.ts';
import type { tempauthSchema } from '../config.ts';
import type { AuthorizeRequest, Identity, Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';

interface User {
  readonly account: string;
  readonly user: string;
  readonly key: string;
  readonly groups: readonly string[];
  readonly url?: string;
}

/**
 * v1 auth with users in config (Swift's tempauth):
 * - `GET /auth/v1.0` with `X-Auth-User: account:user` and `X-Auth-Key` (or `X-Storage-User`,
 *   `X-Storage-Pass`) answers `X-Auth-Token`, `X-Storage-Token`, `X-Storage-Url`,
 *   `X-Auth-Token-Expires`.
 * - Tokens are `AUTH_tk<payload>.<signature>`: the user, groups and expiry, signed with HMAC
 *   SHA-256 under the cluster secret, so every proxy checks any token without a shared cache.
 * - Requests with `X-Auth-Token` or `X-Storage-Token` get an identity and an authorizer:
 *   account owners (`.admin`) and reseller admins may do anything in their reach; others only
 *   what container ACLs grant. A bad or expired token is 401; a foreign account 403.
 */
/** How many verified tokens a proxy remembers. */
const VERIFIED_TOKENS = 10_000;

export function tempauth(config: ConfigOf<typeof tempauthSchema>, secret: string, clock: Clock, capabilities: Capabilities): Middleware {
  const users = parseUsers(config);
  const prefix = config.reseller_prefix === '' ? '' : `${config.reseller_prefix.replace(/_$/, '')}_`;
  const key = createHmac('sha256', secret).update('swiftlet tempauth').digest();
  capabilities['tempauth'] = { account_acls: false };

  const sign = (payload: string): string => createHmac('sha256', key).update(payload).digest('base64url');
  const issue = (u: User): { token: string; expires: number } => {
    const expires = Math.floor(clock.now() / 1000) + config.token_life;
    const payload = Buffer.from(JSON.stringify({ u: `${u.account}:${u.user}`, a: `${prefix}${u.account}`, g: groupsOf(u, prefix), e: expires })).toString('base64url');
    return { token: `${prefix}tk${payload}.${sign(payload)}`, expires };
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
    if (!token.startsWith(`${prefix}tk`)) return undefined;
    const [payload, signature] = token.slice(prefix.length + 2).split('.');
    if (!payload || !signature) return undefined;
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u: string; a: string; g: string[]; e: number };
    if (data.e * 1000 <= clock.now()) return undefined;
    return { identity: { user: data.u, account: data.a, groups: data.g }, expiresMs: data.e * 1000 };
  };

  return (next) => async (req) => {
    if (req.path === '/auth/v1.0' || req.path === '/v1.0' || /^\/(auth\/)?v1\/[^/]+\/auth$/.test(req.path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, undefined, { Allow: 'GET' });
      const name = req.headers['x-auth-user'] ?? req.headers['x-storage-user'] ?? '';
      const pass = req.headers['x-auth-key'] ?? req.headers['x-storage-pass'] ?? '';
      const user = users.get(name);
      if (!user || !safeEqual(user.key, pass)) throw new HttpError(401, undefined, { 'Www-Authenticate': 'Swift realm="unknown"' });
      const { token, expires } = issue(user);
      const host = req.headers['host'] ?? '127.0.0.1';
      const url = (user.url ?? `$HOST/v1/${prefix}${user.account}`).replace('$HOST', `http://${host}`);
      return {
        status: 200,
        headers: { 'X-Auth-Token': token, 'X-Storage-Token': token, 'X-Storage-Url': url, 'X-Auth-Token-Expires': String(expires - Math.floor(clock.now() / 1000)), 'Content-Type': 'text/plain; charset=UTF-8' },
        body: '',
      };
    }
    const token = req.headers['x-auth-token'] ?? req.headers['x-storage-token'];
    // A token is checked on any request that has no authorizer yet: a client's, or a subrequest
    // of a middleware before auth (bulk), which carries the client's token. One TempURL
    // admitted already has its authorizer and is left alone.
    if (token !== undefined && req.env.authorize === undefined) {
      const identity = verify(token);
      if (!identity) {
        req.env.authorize = () => new HttpError(401, undefined, { 'Www-Authenticate': 'Swift realm="unknown"' });
        return next(req);
      }
      req.env.identity = identity;
    }
    if (!req.env.authorize) req.env.authorize = (request) => authorize(req, request, prefix);
    return next(req);
  };
}

/** Swift tempauth's `authorize`, for the env of `req`. */
function authorize(req: ProxyRequest, request: AuthorizeRequest, prefix: string): HttpError | undefined {
  const identity = req.env.identity;
  const denied = (): HttpError => (identity ? new HttpError(403) : new HttpError(401, undefined, { 'Www-Authenticate': `Swift realm="${encodeURIComponent(request.account)}"` }));
  if (!request.account.startsWith(prefix)) return denied();
  const groups = identity?.groups ?? [];
  if (groups.includes('.reseller_admin') && !request.account.slice(prefix.length).startsWith('.')) return undefined;
  if (groups.includes(request.account) && (!['PUT', 'DELETE'].includes(request.method) || request.container !== undefined)) return undefined;
  if (request.method === 'OPTIONS') return undefined;
  const acl = parseAcl(request.acl);
  if (referrerAllowed(request.referer, acl.referrers) && (request.object !== undefined || acl.groups.includes('.rlistings'))) return undefined;
  if (groups.some((g) => acl.groups.includes(g))) return undefined;
  return denied();
}

/** Swift's groups: the account, `account:user`, extra groups, and the account id for `.admin`. */
function groupsOf(u: User, prefix: string): string[] {
  const groups = [u.account, `${u.account}:${u.user}`];
  for (const g of u.groups) groups.push(g === '.admin' ? `${prefix}${u.account}` : g);
  return groups;
}

function parseUsers(config: ConfigOf<typeof tempauthSchema>): Map<string, User> {
  const users = new Map<string, User>();
  for (const [confKey, value] of Object.entries(config['user_*'])) {
    const parts = confKey.slice('user_'.length).split('_');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new ConfigError(`tempauth.${confKey}`, value, 'expected user_<account>_<user>');
    const [key, ...rest] = value.split(/\s+/);
    const last = rest.at(-1);
    const url = last !== undefined && (last.includes('://') || last.includes('$HOST')) ? (rest.pop() as string) : undefined;
    const [account, user] = parts as [string, string];
    users.set(`${account}:${user}`, { account, user, key: key ?? '', groups: rest, ...(url ? { url } : {}) });
  }
  return users;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
