import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ContainerInfo } from '../info-cache.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { SwiftPath } from '../swift-path.ts';
import { bodyChunks, discardBody, headerOf, isSuccess, lowerCaseHeaders, respond } from './subresponse.ts';

/**
 * Moving objects between a versioned container and its versions (both of Swift's versioning
 * middlewares): the current object read as it is stored (a link as the link, a manifest as the
 * manifest) and written elsewhere with all it carries. These requests are the middleware's own
 * (pre-authorized, as Swift's `make_pre_authed_request`): the client's right to write the
 * versioned container was checked first.
 */

/** Response headers about the response, not the object: not written with a copy. */
const NOT_COPIED = new Set(['x-timestamp', 'content-location', 'date', 'accept-ranges', 'last-modified', 'connection', 'keep-alive', 'transfer-encoding', 'x-trans-id', 'x-openstack-request-id', 'vary']);

/**
 * The client's right to write the versioned object's container (its write ACL), checked
 * before anything is read or copied on its behalf (Swift sets `req.acl` and calls
 * `swift.authorize`). As the object controller does, a refusal under cached info is decided
 * again on `fresh` info: a grant made through another proxy worker holds at once.
 * @throws {HttpError} the authorizer's 401 or 403.
 */
export async function authorizeWrite(req: ProxyRequest, target: SwiftPath, info: ContainerInfo, fresh: () => Promise<ContainerInfo>): Promise<void> {
  const authorizer = req.env.authorize;
  if (req.env.authorized || !authorizer) return;
  const { account, container, object } = target;
  const decide = (acl: string | undefined) =>
    authorizer({
      method: req.method,
      account,
      ...(container !== undefined ? { container } : {}),
      ...(object !== undefined ? { object } : {}),
      ...(acl !== undefined ? { acl } : {}),
      ...(req.headers['referer'] !== undefined ? { referer: req.headers['referer'] } : {}),
    });
  let decision = await decide(info.write);
  if (decision.denied) decision = await decide((await fresh()).write);
  if (decision.denied) throw decision.denied;
}

/**
 * A pre-authorized subrequest of `req` (Swift's `make_pre_authed_request`): the middleware
 * already authorized the client for what it does.
 */
export function preAuthed(req: ProxyRequest, init: Parameters<typeof subrequest>[1]): ProxyRequest {
  const sub = subrequest(req, init);
  sub.env.authorized = true;
  return sub;
}

/**
 * Swift's `_get_source_object`: the newest copy of the object at `path` as stored
 * (`?symlink=get`); a 413 answer when it is bigger than `maxFileSize` or has no length.
 */
export async function readStoredObject(next: ProxyHandler, req: ProxyRequest, path: string, source: string, maxFileSize: number, headers: Record<string, string> = {}): Promise<ServerResponse> {
  const response = await respond(next, preAuthed(req, { method: 'GET', path, query: 'symlink=get', headers: { 'x-newest': 'true', ...headers }, source }));
  if (!isSuccess(response.status)) return response;
  const length = headerOf(response, 'content-length');
  if (length === undefined || Number(length) > maxFileSize) {
    await discardBody(response.body);
    return { status: 413, headers: {}, body: null };
  }
  return response;
}

/**
 * Swift's `_put_versioned_obj`: writes the object `stored` answered with to `path`, with its
 * headers (metadata, sysmeta, content type and the stored headers; an SLO manifest's size back
 * in its content type's `swift_bytes`). Returns the PUT's answer, its body read.
 */
export async function writeStoredObject(next: ProxyHandler, req: ProxyRequest, path: string, stored: ServerResponse, source: string, extra: Record<string, string> = {}): Promise<ServerResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(lowerCaseHeaders(stored.headers))) {
    if (!NOT_COPIED.has(name) && !name.startsWith('x-backend-')) headers[name] = value;
  }
  const sloSize = headers['x-object-sysmeta-slo-size'];
  if (sloSize && headers['content-type'] !== undefined) headers['content-type'] += `; swift_bytes=${sloSize}`;
  const response = await respond(next, preAuthed(req, { method: 'PUT', path, headers: { ...headers, ...extra }, body: bodyChunks(stored.body), source }));
  await discardBody(response.body);
  return { ...response, body: null };
}

/**
 * Swift's (legacy) `_check_response_error`: a failed step of versioning refuses the request: a
 * client error (a missing container, no permission) as 412, anything else as 503.
 * @throws {HttpError} unless `response` is a success.
 */
export async function requireSuccess(response: ServerResponse): Promise<void> {
  if (isSuccess(response.status)) return;
  await discardBody(response.body);
  throw new HttpError(response.status >= 400 && response.status < 500 ? 412 : 503);
}
