import type { Schema } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import type { Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { swiftPathOf } from '../swift-path.ts';
import { unquoteHeader } from './url-quote.ts';

/** The `[container-quotas]` section: Swift's filter has no settings. */
export const containerQuotasSchema = {} as const satisfies Schema;

/** Swift's quota refusal: a 413 with this text (swob's default HTML content type). */
export function quotaExceeded(): HttpError {
  return new HttpError(413, 'Upload exceeds quota.', { 'Content-Type': 'text/html; charset=UTF-8' });
}

/** Python's `str.isdigit()` for the ASCII digits Swift's quota values hold. */
export function isDigits(value: string): boolean {
  return /^[0-9]+$/.test(value);
}

/**
 * Swift's `container_quotas` middleware, after auth (and after `copy`, so a COPY or an
 * `X-Copy-From` arrives as the PUT it becomes, with the source's length):
 * - a container PUT or POST with `X-Container-Meta-Quota-Bytes` or `-Quota-Count` that is not
 *   a whole number is refused (400 `Invalid bytes quota.` / `Invalid count quota.`);
 * - an object PUT that would take the container past its byte quota (its bytes plus the
 *   upload's Content-Length; a chunked upload counts 0) or past its object count quota (its
 *   count plus one) is refused with 413 `Upload exceeds quota.`, or with the 401/403 the
 *   client would have got anyway, so the quota does not reveal a container to a stranger.
 * The container's counts are those of the proxy's container info, so like Swift's they lag
 * the writes of the last seconds (`recheck_container_existence`). A container with object
 * versioning counts its versions' bytes too, as the `X-Container-Bytes-Used` its owner sees
 * (Swift's quota reads the info object versioning has added them to); its object count
 * stays its own.
 */
export function containerQuotas(ctx: ProxyContext, capabilities: Capabilities): Middleware {
  capabilities['container_quotas'] = {};
  return (next) => async (req) => {
    if (req.method !== 'PUT' && req.method !== 'POST') return next(req);
    const path = swiftPathOf(req.path);
    if (path?.container === undefined) return next(req);
    if (path.object === undefined) {
      const bytes = req.headers['x-container-meta-quota-bytes'];
      if (bytes && !isDigits(bytes)) throw new HttpError(400, 'Invalid bytes quota.', { 'Content-Type': 'text/html; charset=UTF-8' });
      const count = req.headers['x-container-meta-quota-count'];
      if (count && !isDigits(count)) throw new HttpError(400, 'Invalid count quota.', { 'Content-Type': 'text/html; charset=UTF-8' });
      return next(req);
    }
    if (req.method !== 'PUT') return next(req);
    const target = { account: path.account, container: path.container, object: path.object };
    const meta = await ctx.info.container(path.account, path.container, req.env.transId);
    // A missing container is the controller's 404 to give.
    if (meta.status < 200 || meta.status >= 300) return next(req);
    const quotaBytes = meta.meta['quota-bytes'];
    if (quotaBytes !== undefined && isDigits(quotaBytes)) {
      const length = Number(req.headers['content-length'] ?? 0) || 0;
      const used = meta.bytes + (await versionsBytes(ctx, path.account, meta, req.env.transId));
      if (Number(quotaBytes) < used + length) throw await refusal(req, meta, target);
    }
    const quotaCount = meta.meta['quota-count'];
    if (quotaCount !== undefined && isDigits(quotaCount) && Number(quotaCount) < meta.objectCount + 1) throw await refusal(req, meta, target);
    return next(req);
  };
}

/**
 * The bytes in the hidden container of a container with object versioning (0 without one).
 * Read past the cache, as Swift's object versioning HEADs it whenever the container's info is
 * read: object writes do not refresh the cached info of the container they land in, so a
 * cached count would miss the versions of the last few seconds.
 */
async function versionsBytes(ctx: ProxyContext, account: string, info: ContainerInfo, transId: string): Promise<number> {
  const location = info.sysmeta['versions-container'];
  if (!location) return 0;
  const versions = await ctx.info.container(account, unquoteHeader(location, true) ?? location, transId, { fresh: true });
  return versions.status >= 200 && versions.status < 300 ? versions.bytes : 0;
}

/** The 401/403 the request would get anyway, else the 413. */
async function refusal(req: ProxyRequest, info: ContainerInfo, path: { account: string; container: string; object: string }): Promise<HttpError> {
  if (!req.env.authorized && req.env.authorize) {
    const decision = await req.env.authorize({ method: req.method, account: path.account, container: path.container, object: path.object, ...(info.write !== undefined ? { acl: info.write } : {}), ...(req.headers['referer'] !== undefined ? { referer: req.headers['referer'] } : {}) });
    if (decision.denied) return decision.denied;
  }
  return quotaExceeded();
}
