import { ConstraintError } from '../../common/errors.ts';
import { CONSTRAINT_STATUS } from '../../common/http/domain-status.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { ProxyContext } from '../context.ts';
import type { AuthorizeRequest, ProxyRequest } from '../request.ts';

/**
 * Runs checks of Swift's `check_object_creation`, `check_metadata` and `check_delete_headers`,
 * whose refusals Swift sends as `text/plain` (its path and name refusals are swob's default
 * `text/html`).
 * @throws {HttpError} the broken constraint's status, as `text/plain`.
 */
export function plainTextRefusal<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConstraintError) throw new HttpError(CONSTRAINT_STATUS[err.kind], err.message, { 'Content-Type': 'text/plain' }, { cause: err });
    throw err;
  }
}

/** Client headers the proxy never sends on to storage nodes. */
const NOT_FORWARDED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'x-auth-token', 'x-storage-token', 'authorization', 'expect', 'keep-alive', 'te', 'trailer', 'upgrade']);

/**
 * Headers for a backend request: the client's (less auth and hop-by-hop), plus the transaction
 * id, the write timestamp, and who is asking.
 */
export function backendHeaders(req: ProxyRequest, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const given = req.headers;
  for (const name in given) {
    const value = given[name];
    if (value !== undefined && !NOT_FORWARDED.has(name)) out[name] = value;
  }
  out['x-trans-id'] = req.env.transId;
  out['user-agent'] = `proxy-server ${process.pid}`;
  return { ...out, ...extra };
}

/**
 * The timestamp of a write: the client's `X-Timestamp` when it sent one (container sync does),
 * else now. @throws {HttpError} 400 for a bad client timestamp.
 */
export function writeTimestamp(req: ProxyRequest, ctx: ProxyContext): Timestamp {
  const given = req.headers['x-timestamp'];
  if (given === undefined) return ctx.timestamps.next();
  try {
    return Timestamp.parse(given);
  } catch {
    throw new HttpError(400, `X-Timestamp should be a UNIX timestamp float value; was ${JSON.stringify(given)}`, { 'Content-Type': 'text/plain' });
  }
}

/**
 * Asks the auth middleware whether the request may proceed, given the resource's ACL.
 * Returns whether the requester is the account's owner (Swift's `swift_owner`).
 * @throws {HttpError} 401 or 403 from the authorizer.
 */
export async function authorize(req: ProxyRequest, request: AuthorizeRequest): Promise<boolean> {
  if (req.env.authorized) return true;
  if (!req.env.authorize) return false;
  const decision = await req.env.authorize({ ...request, ...(req.headers['referer'] !== undefined ? { referer: req.headers['referer'] } : {}) });
  if (decision.denied) throw decision.denied;
  return decision.owner;
}

/**
 * Headers only the account's owner may see or set (Swift's default `swift_owner_headers`):
 * a response to anyone else loses them, and a container PUT or POST from anyone else drops them.
 */
export const OWNER_HEADERS: readonly string[] = [
  'x-container-read',
  'x-container-write',
  'x-container-sync-key',
  'x-container-sync-to',
  'x-account-meta-temp-url-key',
  'x-account-meta-temp-url-key-2',
  'x-container-meta-temp-url-key',
  'x-container-meta-temp-url-key-2',
  'x-account-access-control',
];

/** Headers from a backend response that the client may see (backend-only ones removed later by the gatekeeper). */
export function passHeaders(headers: Readonly<Record<string, string>>, drop: readonly string[] = []): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const k in headers) {
    const v = headers[k] as string;
    if (k === 'connection' || k === 'keep-alive' || k === 'transfer-encoding' || k === 'date' || drop.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Whether the client asked for the newest replica's answer (`X-Newest: true`). */
export function isNewest(req: ProxyRequest): boolean {
  return (req.headers['x-newest'] ?? '').toLowerCase() === 'true';
}
