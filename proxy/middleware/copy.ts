import { isTrueValue } from '../../common/config.ts';
import { allowsReservedNames } from '../../common/reserved-name.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ResponseHeaders, ServerResponse } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import { parseSwiftPath } from '../swift-path.ts';
import { type Middleware, type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { type CopyPath, parseAccountHeader, parseCopyPath } from './copy-path.ts';
import { headerOf, isSuccess } from './subresponse.ts';
import { trackBody } from './tracked-body.ts';
import { quotePath } from './url-quote.ts';

/** Where an object lives: the API version of the request, account, container, object. */
interface ObjectLocation extends CopyPath {
  readonly version: string;
  readonly account: string;
}

/**
 * Headers a copy carries from the source to the new object besides metadata: what the object
 * server stores with an object (its `allowed_headers`), less the large-object markers, which
 * only a manifest copy (`?multipart-manifest=get`) may carry; and a link's target, which a
 * source read with `?symlink=get` shows, so the copy is a link too.
 */
const CARRIED = new Set(['content-disposition', 'content-encoding', 'x-delete-at', 'cache-control', 'content-language', 'expires', 'x-robots-tag', 'x-symlink-target', 'x-symlink-target-account', 'x-symlink-target-etag', 'x-symlink-target-bytes']);

/** Request headers that describe the copy itself; the source GET and the new PUT drop them. */
const COPY_ONLY = ['x-copy-from', 'x-copy-from-account', 'destination', 'destination-account', 'content-length', 'transfer-encoding', 'x-backend-storage-policy-index'];

const OVERRIDE_PREFIX = 'x-object-sysmeta-container-update-override-';

function isObjectMeta(name: string): boolean {
  return (name.startsWith('x-object-meta-') && name.length > 'x-object-meta-'.length) ||
    (name.startsWith('x-object-sysmeta-') && name.length > 'x-object-sysmeta-'.length) ||
    (name.startsWith('x-object-transient-sysmeta-') && name.length > 'x-object-transient-sysmeta-'.length);
}

function isSysmeta(name: string): boolean {
  return name.startsWith('x-object-sysmeta-') && name.length > 'x-object-sysmeta-'.length;
}

function objectPath(loc: ObjectLocation): string {
  return `/${loc.version}/${quotePath(loc.account)}/${quotePath(loc.container)}/${quotePath(loc.object)}`;
}

/**
 * Server-side copy (Swift's `copy` middleware), after auth and before the large-object
 * middlewares:
 * - `COPY /v1/a/c/o` with `Destination: <container>/<object>` (and `Destination-Account`) is
 *   turned into `PUT` of the destination with `X-Copy-From: /c/o` (and `X-Copy-From-Account`).
 * - `PUT` with `X-Copy-From` reads the source with a GET subrequest (`X-Newest`, the request's
 *   conditional and `Range` headers apply to the source) and streams it into a PUT subrequest
 *   of the destination, so a 5 GiB object never sits in memory. Both go through the rest of
 *   the pipeline: the controllers authorize read on the source and write on the destination.
 * - Metadata (user, system, transient) and the stored headers (`Content-Disposition`,
 *   `Content-Encoding`, `X-Delete-At`, ...) come from the source, request headers on top;
 *   `X-Fresh-Metadata: true` keeps only the source's system metadata. `Content-Type` comes
 *   from the source unless the request sets one.
 * - `?multipart-manifest=get` copies a large object's manifest itself (an SLO manifest is read
 *   `format=raw` and written back with `multipart-manifest=put`; a DLO keeps its
 *   `X-Object-Manifest`); without it the copy holds the large object's concatenated content.
 * - A successful copy answers the PUT's response plus `X-Copied-From`, `X-Copied-From-Account`,
 *   `X-Copied-From-Last-Modified` (and `X-Copied-From-Version-Id` for a version) and the new
 *   object's metadata.
 * - `OPTIONS` answers list `COPY` among the allowed methods.
 */
export function copy(ctx: ProxyContext): Middleware {
  return (next) => async (req) => {
    let location: ObjectLocation;
    try {
      const parsed = parseSwiftPath(req.path, allowsReservedNames(req.headers));
      if (parsed.container === undefined || parsed.object === undefined) return next(req);
      location = { version: parsed.version, account: parsed.account, container: parsed.container, object: parsed.object };
    } catch {
      return next(req);
    }
    if (req.method === 'PUT' && req.headers['x-copy-from']) return copyPut(ctx, next, req, location);
    if (req.method === 'COPY') return copyVerb(ctx, next, req, location);
    if (req.method === 'OPTIONS') return withCopyAllowed(await next(req));
    return next(req);
  };
}

/** `COPY` is a PUT of the destination copying from the request's object. */
async function copyVerb(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, location: ObjectLocation): Promise<ServerResponse> {
  const destination = req.headers['destination'];
  if (!destination) throw new HttpError(412, 'Destination header required');
  const destAccountHeader = req.headers['destination-account'];
  const account = destAccountHeader !== undefined ? parseAccountHeader(destAccountHeader) : location.account;
  const target = parseCopyPath(destination, 'Destination');
  // A COPY's own body (there should be none) is not read: Swift sets Content-Length 0.
  return doCopy(ctx, next, req, location, { version: location.version, account, ...target });
}

/** `PUT` with `X-Copy-From` (and `X-Copy-From-Account`). */
async function copyPut(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, destination: ObjectLocation): Promise<ServerResponse> {
  const length = req.headers['content-length'];
  if (length !== undefined && length.trim() !== '' && Number(length) !== 0) throw new HttpError(400, 'Copy requests require a zero byte body');
  const accountHeader = req.headers['x-copy-from-account'];
  const account = accountHeader ? parseAccountHeader(accountHeader) : destination.account;
  const from = parseCopyPath(req.headers['x-copy-from'] ?? '', 'X-Copy-From');
  return doCopy(ctx, next, req, { version: destination.version, account, ...from }, destination);
}

async function doCopy(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, source: ObjectLocation, destination: ObjectLocation): Promise<ServerResponse> {
  const requestHeaders: Record<string, string | undefined> = { ...req.headers };
  for (const name of COPY_ONLY) delete requestHeaders[name];
  const manifestGet = req.query.get('multipart-manifest') === 'get';

  // 1. The source, as the client would GET it (X-Newest: the copy takes the latest replica).
  const sourceQuery = new URLSearchParams(req.query);
  if (manifestGet) sourceQuery.set('format', 'raw');
  const sourceResponse = await next(subrequest(req, { method: 'GET', path: objectPath(source), query: sourceQuery, headers: { ...requestHeaders, 'x-newest': 'true' }, source: 'COPY' }));
  if (sourceResponse.status >= 300) return sourceResponse;
  const body = trackBody(sourceResponse.body);
  try {
    const sourceLength = headerOf(sourceResponse, 'content-length');
    if (sourceLength !== undefined && Number(sourceLength) > ctx.constraints.max_file_size) throw new HttpError(413);

    // 2. The new object's headers: the source's metadata, then the request's on top.
    const sourceHeaders = lowerCased(sourceResponse.headers);
    const sink: Record<string, string | undefined> = {};
    const fresh = isTrueValue(req.headers['x-fresh-metadata']);
    for (const [name, value] of Object.entries(sourceHeaders)) {
      if (fresh ? isSysmeta(name) : isObjectMeta(name) || CARRIED.has(name)) sink[name] = value;
    }
    Object.assign(sink, requestHeaders);
    const slo = sourceHeaders['x-static-large-object'] !== undefined;
    const dlo = sourceHeaders['x-object-manifest'];
    const sinkQuery = new URLSearchParams(req.query);
    if (manifestGet) {
      if (slo) sinkQuery.set('multipart-manifest', 'put');
      if (dlo !== undefined) {
        sinkQuery.delete('multipart-manifest');
        sink['x-object-manifest'] = dlo;
      }
    }
    sinkQuery.delete('version-id');
    if (sourceLength !== undefined) sink['content-length'] = sourceLength;
    else sink['transfer-encoding'] = 'chunked';
    // The source's ETag makes the object server verify the copied bytes, unless it is not the
    // MD5 of what is streamed: a range (206), or a large object's (SLO, or DLO content).
    if (sourceResponse.status === 200 && !slo && (dlo === undefined || manifestGet) && sourceHeaders['etag'] !== undefined) {
      sink['etag'] = sourceHeaders['etag'];
    } else {
      for (const name of Object.keys(sink)) if (name.startsWith(OVERRIDE_PREFIX)) delete sink[name];
    }
    if (!req.headers['content-type'] && sourceHeaders['content-type'] !== undefined) sink['content-type'] = sourceHeaders['content-type'];

    const copied: ResponseHeaders = {
      'X-Copied-From-Account': quotePath(source.account),
      'X-Copied-From': quotePath(`${source.container}/${source.object}`),
    };
    if (sourceHeaders['last-modified'] !== undefined) copied['X-Copied-From-Last-Modified'] = sourceHeaders['last-modified'];
    if (sourceHeaders['x-object-version-id'] !== undefined) copied['X-Copied-From-Version-Id'] = sourceHeaders['x-object-version-id'];
    for (const [name, value] of Object.entries(sink)) if (value !== undefined && (isObjectMeta(name) || name === 'x-delete-at')) copied[name] = value;

    // 3. Stream the source into the destination.
    ctx.logger.info('copying object', { from: objectPath(source), to: objectPath(destination), txn: req.env.transId });
    const put = await next(subrequest(req, { method: 'PUT', path: objectPath(destination), query: sinkQuery, headers: sink, body: body.stream, source: 'COPY' }));
    if (!isSuccess(put.status)) return put;
    return { ...put, headers: { ...put.headers, ...copied } };
  } finally {
    await body.close();
  }
}

function lowerCased(headers: ResponseHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/** Adds `COPY` to `Allow` and `Access-Control-Allow-Methods` of a successful OPTIONS answer. */
function withCopyAllowed(response: ServerResponse): ServerResponse {
  if (!isSuccess(response.status) || !response.headers) return response;
  const headers: ResponseHeaders = {};
  for (const [k, v] of Object.entries(response.headers)) {
    const name = k.toLowerCase();
    headers[k] = (name === 'allow' || name === 'access-control-allow-methods') && !String(v).includes('COPY') ? `${String(v)}, COPY` : v;
  }
  return { ...response, headers };
}
