import { type ConfigOf, int, isTrueValue, type Schema } from '../../common/config.ts';
import { normalizeEtag } from '../../common/http/conditional.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { ALLOW_RESERVED_NAMES_HEADER, allowsReservedNames } from '../../common/reserved-name.ts';
import type { SwiftPath } from '../swift-path.ts';
import { type Middleware, type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { parseAccountHeader, parseCopyPath } from './copy-path.ts';
import type { Capabilities } from './info.ts';
import { requestTarget } from './segment-path.ts';
import { discardBody, isSuccess, lowerCaseHeaders, respond } from './subresponse.ts';
import { symlinkContainerListing } from './symlink-listing.ts';
import {
  MD5_OF_EMPTY, OVERRIDE_ETAG, showSymlinkHeaders, SYSMETA_ALLOW_RESERVED_NAMES, SYSMETA_SYMLOOP_EXTEND, SYSMETA_TARGET, SYSMETA_TARGET_ACCOUNT, SYSMETA_TARGET_BYTES,
  SYSMETA_TARGET_ETAG, TARGET, TARGET_ACCOUNT, TARGET_BYTES, TARGET_ETAG,
} from './symlink-headers.ts';
import { quotePath, unquoteHeader } from './url-quote.ts';

const DEFAULT_SYMLOOP_MAX = 2;

/** Swift's `[filter:symlink]`. */
export const symlinkSchema = {
  symloop_max: int(DEFAULT_SYMLOOP_MAX, { doc: 'links a GET or HEAD follows in a row (below 1: the default, 2)' }),
} as const satisfies Schema;

/** `symloop_max` as Swift takes it: a value below 1 means the default. */
export function symloopMax(config: ConfigOf<typeof symlinkSchema>): number {
  return config.symloop_max < 1 ? DEFAULT_SYMLOOP_MAX : config.symloop_max;
}

interface ObjectPath extends SwiftPath {
  readonly container: string;
  readonly object: string;
}

/** The ignore-range list the object server reads (Swift's `X-Backend-Ignore-Range-If-Metadata-Present`). */
const IGNORE_RANGE = 'x-backend-ignore-range-if-metadata-present';

/**
 * Symlinks (Swift's `symlink` middleware, after `versioned_writes`, last before the
 * controllers). A symlink is a zero-byte object whose sysmeta names a target object:
 *
 * - `PUT` with `X-Symlink-Target: <container>/<object>` (and `-Account`) makes one; with
 *   `X-Symlink-Target-Etag` a static link, whose target must exist with that ETag (409
 *   otherwise), its size recorded. The target rides into the container listing in the row's
 *   etag (`symlink_target=...` parameters), which listings turn into `symlink_path`.
 * - `GET`/`HEAD` follow links (at most `symloop_max` in a row, 409 past it) and answer the
 *   target with `Content-Location` naming it; a static link whose target's ETag changed is a
 *   409. `?symlink=get` reads the link itself, its target in `X-Symlink-*` headers.
 * - `POST` to a link changes the link's metadata and answers 307 to the target.
 * - `DELETE`, `OPTIONS` and plain PUTs are any object's.
 */
export function symlink(config: ConfigOf<typeof symlinkSchema>, capabilities: Capabilities): Middleware {
  const maxLinks = symloopMax(config);
  capabilities['symlink'] = { symloop_max: maxLinks, static_links: true };
  return (next) => async (req) => {
    const path = requestTarget(req.path, allowsReservedNames(req.headers));
    if (!path || path.container === undefined) return next(req);
    if (path.object === undefined) return req.method === 'GET' ? symlinkContainerListing(next, req, path) : next(req);
    const object = path as ObjectPath;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (req.query.get('symlink') === 'get') return linkItself(next, req);
      return new LinkWalk(next, maxLinks).follow(req);
    }
    if (req.method === 'PUT' && req.headers[TARGET] !== undefined) return putLink(next, req, object, maxLinks);
    if (req.method === 'POST') return postToLink(next, req, object);
    return next(req);
  };
}

/** `?symlink=get`: the link object, its sysmeta shown as `X-Symlink-*`. */
async function linkItself(next: ProxyHandler, req: ProxyRequest): Promise<ServerResponse> {
  const response = await next(req);
  const headers = lowerCaseHeaders(response.headers);
  showSymlinkHeaders(headers);
  return { ...response, headers };
}

/** `os.path.join('/', version, account, target)` with the target's leading slashes dropped. */
function linkPath(version: string, account: string, target: string): string {
  return `/${version}/${account}/${target.replace(/^\/+/, '')}`;
}

/**
 * One GET or HEAD following links (Swift's `SymlinkObjectContext`): counts the links taken
 * and remembers the last target, for `Content-Location`.
 */
class LinkWalk {
  private loops = 0;
  /** The walk's first request: every hop is made on its behalf. */
  private origin: ProxyRequest | undefined;
  lastTarget: string | undefined;
  private readonly next: ProxyHandler;
  private readonly maxLinks: number;

  constructor(next: ProxyHandler, maxLinks: number) {
    this.next = next;
    this.maxLinks = maxLinks;
  }

  /** A client's GET or HEAD: the object, or what its links lead to. */
  async follow(req: ProxyRequest): Promise<ServerResponse> {
    // A link is zero bytes: a Range must not make its object server answer 416 before the
    // link is seen.
    const ignore = req.headers[IGNORE_RANGE];
    req.headers[IGNORE_RANGE] = ignore ? `${ignore},${SYSMETA_TARGET}` : SYSMETA_TARGET;
    return this.walk(req, undefined, true);
  }

  /**
   * Swift's `_recursive_get_head`: the answer for `req`; when it is a link (any status: a
   * link's own 304 or 412 still names its target), the target's, checked against the ETag a
   * static link wants. Only static links are followed when `followDynamic` is false.
   */
  async walk(req: ProxyRequest, wantedEtag: string | undefined, followDynamic: boolean): Promise<ServerResponse> {
    this.origin ??= req;
    // An error answer (a hop refused by an ACL) still gets Content-Location.
    const response = await respond(this.next, req);
    const headers = lowerCaseHeaders(response.headers);
    const target = headers[SYSMETA_TARGET];
    const linkEtag = headers[SYSMETA_TARGET_ETAG];
    if (target && (linkEtag || followDynamic)) {
      await discardBody(response.body);
      const found = linkEtag || headers['etag'];
      if (wantedEtag && wantedEtag !== found) throw this.conflict('X-Symlink-Target-Etag headers do not match');
      if (this.loops >= this.maxLinks) throw new HttpError(409, `Too many levels of symbolic links, maximum allowed is ${this.maxLinks}`, { 'Content-Type': 'text/plain' });
      const parsed = requestTarget(req.path, true) as SwiftPath;
      const path = linkPath(parsed.version, headers[SYSMETA_TARGET_ACCOUNT] || quotePath(parsed.account), target);
      this.lastTarget = path;
      const subHeaders: Record<string, string | undefined> = { ...req.headers };
      delete subHeaders['x-backend-storage-policy-index'];
      // Only middlewares may make links into the reserved namespace, and they already
      // authorized the client for it.
      const reserved = isTrueValue(headers[SYSMETA_ALLOW_RESERVED_NAMES]);
      if (reserved || allowsReservedNames(this.origin.headers)) subHeaders[ALLOW_RESERVED_NAMES_HEADER] = 'true';
      else delete subHeaders[ALLOW_RESERVED_NAMES_HEADER];
      // Every hop is made from the first request, so a reserved link's pre-authorization holds
      // for its own hop only: links past it are followed with the client's authorization
      // (Swift builds a hop from the one before, which can carry it further).
      const hop = subrequest(this.origin, { method: req.method, path, query: req.query, headers: subHeaders, source: 'SYM' });
      if (reserved) hop.env.authorized = true;
      if (!isTrueValue(headers[SYSMETA_SYMLOOP_EXTEND])) this.loops++;
      return this.walk(hop, linkEtag, true);
    }
    const finalEtag = headers['etag'];
    if (finalEtag && wantedEtag && wantedEtag !== finalEtag) {
      await discardBody(response.body);
      throw this.conflict(`Object Etag ${pyRepr(finalEtag)} does not match X-Symlink-Target-Etag header ${pyRepr(wantedEtag)}`);
    }
    if (this.lastTarget === undefined) return response;
    return { ...response, headers: { ...headers, 'content-location': this.lastTarget } };
  }

  private conflict(body: string): HttpError {
    return new HttpError(409, body, { 'Content-Type': 'text/plain', ...(this.lastTarget !== undefined ? { 'Content-Location': this.lastTarget } : {}) });
  }
}

/** Python's `repr` of a plain string, as Swift's messages quote etags. */
function pyRepr(text: string): string {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Whether a request that must have none has a body (chunked: the first chunk tells). */
async function hasBody(req: ProxyRequest): Promise<boolean> {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) !== 0;
  for await (const chunk of req.body) if (chunk.length > 0) return true;
  return false;
}


/**
 * A link's PUT (Swift's `handle_put`): checks the target, for a static link that it exists
 * with the ETag given, then stores the target as sysmeta and in the container update's etag.
 */
async function putLink(next: ProxyHandler, req: ProxyRequest, object: ObjectPath, maxLinks: number): Promise<ServerResponse> {
  if (await hasBody(req)) throw new HttpError(400, 'Symlink requests require a zero byte body', { 'Content-Type': 'text/plain' });
  const raw = req.headers[TARGET] ?? '';
  const internal = allowsReservedNames(req.headers);
  // Unlike a copy's source, a link's target may not start with a slash.
  if ((unquoteHeader(raw, internal) ?? raw).startsWith('/')) throw new HttpError(412, 'X-Symlink-Target header must be of the form <container name>/<object name>', { 'Content-Type': 'text/plain' });
  const target = parseCopyPath(raw, 'X-Symlink-Target', internal);
  req.headers[TARGET] = quotePath(`${target.container}/${target.object}`);
  let account = object.account;
  const accountHeader = req.headers[TARGET_ACCOUNT];
  if (accountHeader !== undefined) {
    account = parseAccountHeader(accountHeader);
    req.headers[TARGET_ACCOUNT] = quotePath(account);
  }
  if (account === object.account && target.container === object.container && target.object === object.object) {
    throw new HttpError(400, 'Symlink cannot target itself', { 'Content-Type': 'text/plain' });
  }
  const etagHeader = req.headers[TARGET_ETAG];
  const etag = etagHeader === undefined ? undefined : normalizeEtag(etagHeader);
  if (etag && /[;"\\]/.test(etag)) throw new HttpError(400, 'Bad X-Symlink-Target-Etag format', { 'Content-Type': 'text/plain' });
  if (!etag && !req.headers['content-type']) req.headers['content-type'] = 'application/symlink';
  if (etag) await checkStaticTarget(next, req, `/${object.version}/${quotePath(account)}/${quotePath(`${target.container}/${target.object}`)}`, etag, maxLinks);

  // The client's headers become sysmeta; the etag and bytes are the checked ones, when any.
  for (const [client, sysmeta] of [[TARGET, SYSMETA_TARGET], [TARGET_ACCOUNT, SYSMETA_TARGET_ACCOUNT]] as const) {
    const value = req.headers[client];
    delete req.headers[client];
    if (value !== undefined) req.headers[sysmeta] = value;
  }
  delete req.headers[TARGET_ETAG];
  delete req.headers[TARGET_BYTES];
  // Listings learn of links from the container update's etag: a link is zero bytes, so the
  // etag of no bytes with the target as parameters.
  const override = [req.headers[OVERRIDE_ETAG] ?? MD5_OF_EMPTY, `symlink_target=${req.headers[SYSMETA_TARGET] ?? ''}`];
  if (req.headers[SYSMETA_TARGET_ACCOUNT] !== undefined) override.push(`symlink_target_account=${req.headers[SYSMETA_TARGET_ACCOUNT]}`);
  if (req.headers[SYSMETA_TARGET_ETAG] !== undefined) {
    override.push(`symlink_target_etag=${req.headers[SYSMETA_TARGET_ETAG]}`, `symlink_target_bytes=${req.headers[SYSMETA_TARGET_BYTES] ?? ''}`);
  }
  req.headers[OVERRIDE_ETAG] = override.join('; ');
  return next(req);
}

/**
 * Swift's `_validate_etag_and_update_sysmeta`: HEADs the target (following static links only)
 * as the client, and records its ETag and size (an SLO's whole size) in the link's sysmeta.
 */
async function checkStaticTarget(next: ProxyHandler, req: ProxyRequest, path: string, etag: string, maxLinks: number): Promise<void> {
  const headers: Record<string, string> = allowsReservedNames(req.headers) ? { [ALLOW_RESERVED_NAMES_HEADER]: 'true' } : {};
  const walk = new LinkWalk(next, maxLinks);
  walk.lastTarget = path;
  const response = await walk.walk(subrequest(req, { method: 'HEAD', path, headers, source: 'SYM' }), etag, false);
  await discardBody(response.body);
  if (response.status === 404) {
    throw new HttpError(409, 'X-Symlink-Target does not exist', { 'Content-Type': 'text/plain', 'Content-Location': walk.lastTarget ?? path });
  }
  if (!isSuccess(response.status)) throw new HttpError(response.status);
  const found = lowerCaseHeaders(response.headers);
  // Carry the target's own listing parameters (an SLO's slo_etag) on the link's etag.
  if (found[OVERRIDE_ETAG] !== undefined && req.headers[OVERRIDE_ETAG] === undefined) {
    const params = found[OVERRIDE_ETAG].indexOf(';');
    req.headers[OVERRIDE_ETAG] = params < 0 ? MD5_OF_EMPTY : MD5_OF_EMPTY + found[OVERRIDE_ETAG].slice(params);
  }
  if (found['x-object-sysmeta-slo-etag'] !== undefined && req.headers[OVERRIDE_ETAG] === undefined) {
    req.headers[OVERRIDE_ETAG] = `${MD5_OF_EMPTY}; slo_etag=${found['x-object-sysmeta-slo-etag']}`;
  }
  req.headers[SYSMETA_TARGET_BYTES] = found['x-object-sysmeta-slo-size'] || found['content-length'] || '0';
  req.headers[SYSMETA_TARGET_ETAG] = etag;
  if (!req.headers['content-type'] && found['content-type'] !== undefined) req.headers['content-type'] = found['content-type'];
}

/**
 * A POST (Swift's `handle_post`): never sets a target (400); applied to a link, it changes the
 * link (object servers cannot tell) and answers 307 with the target in `Location`, plus the
 * link's sysmeta for the middlewares before this one (the gatekeeper keeps it from clients).
 */
async function postToLink(next: ProxyHandler, req: ProxyRequest, object: ObjectPath): Promise<ServerResponse> {
  if (req.headers[TARGET] !== undefined) throw new HttpError(400, 'A PUT request is required to set a symlink target', { 'Content-Type': 'text/plain' });
  const response = await next(req);
  if (!isSuccess(response.status)) return response;
  const found = lowerCaseHeaders(response.headers);
  const target = found[SYSMETA_TARGET];
  if (!target) return response;
  await discardBody(response.body);
  const headers: Record<string, string> = { location: linkPath(object.version, found[SYSMETA_TARGET_ACCOUNT] || quotePath(object.account), target) };
  if (found[SYSMETA_TARGET_ETAG]) headers[TARGET_ETAG] = found[SYSMETA_TARGET_ETAG];
  for (const [name, value] of Object.entries(found)) if (name.startsWith('x-object-sysmeta-')) headers[name] = value;
  throw new HttpError(307, 'The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.', { 'Content-Type': 'text/html; charset=UTF-8', ...headers });
}
