import { commonHttpError } from '../../common/http/domain-status.ts';
import { defaultErrorBody, HttpError } from '../../common/http/http-error.ts';
import type { ResponseHeaders, ServerResponse } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import type { ProxyRequest } from '../request.ts';
import { authorize } from './shared.ts';

/**
 * CORS as Swift's proxy controllers do it (`Controller.OPTIONS` and `cors_validation` in
 * `swift/proxy/controllers/base.py`): a container's `X-Container-Meta-Access-Control-Allow-Origin`
 * (space-separated origins, or `*`), `-Max-Age` and `-Expose-Headers` govern browser requests
 * to it and its objects, together with the proxy's `cors_allow_origin`, `cors_expose_headers`
 * and `strict_cors_mode`. Accounts have no CORS rules.
 */

/** A container's CORS metadata. */
interface CorsRules {
  readonly allowOrigin: string | undefined;
  readonly exposeHeaders: string | undefined;
  readonly maxAge: string | undefined;
}

/** What every CORS answer exposes (the simple response headers and Swift's own). */
const EXPOSED_ALWAYS = ['cache-control', 'content-language', 'content-type', 'expires', 'last-modified', 'pragma', 'etag', 'x-timestamp', 'x-trans-id', 'x-openstack-request-id'];

function corsRules(info: ContainerInfo): CorsRules {
  return { allowOrigin: info.meta['access-control-allow-origin'], exposeHeaders: info.meta['access-control-expose-headers'], maxAge: info.meta['access-control-max-age'] };
}

/** Swift's `is_origin_allowed`: the container's origins and the proxy's `cors_allow_origin`. */
function originAllowed(ctx: ProxyContext, rules: CorsRules, origin: string): boolean {
  const allowed = new Set([...(rules.allowOrigin ?? '').split(' ').map((o) => o.trim()).filter((o) => o !== ''), ...ctx.config.cors_allow_origin]);
  return allowed.has(origin) || allowed.has('*');
}

/**
 * `OPTIONS` on an account, container or object: 200 with `Allow`. With `Origin` it is a CORS
 * preflight for a container or object: 401 unless the origin is allowed and
 * `Access-Control-Request-Method` is one of `methods`; else 200 with the `Access-Control-Allow-*`
 * headers (every requested header is allowed) and `-Max-Age` when the container sets one.
 * @throws {HttpError} 401 or 403 when the auth middleware refuses (an account it does not serve).
 */
export async function corsPreflight(ctx: ProxyContext, req: ProxyRequest, target: { account: string; container?: string; object?: string }, methods: readonly string[]): Promise<ServerResponse> {
  await authorize(req, { method: 'OPTIONS', ...target });
  const allow = methods.join(', ');
  const origin = req.headers['origin'];
  if (origin === undefined || target.container === undefined) return { status: 200, headers: { Allow: allow, 'Content-Type': 'text/html; charset=UTF-8' }, body: '' };
  const rules = corsRules(await ctx.info.container(target.account, target.container, req.env.transId));
  const requestMethod = req.headers['access-control-request-method'];
  if (!originAllowed(ctx, rules, origin) || requestMethod === undefined || !methods.includes(requestMethod)) {
    return { status: 401, headers: { Allow: allow, 'Content-Type': 'text/html; charset=UTF-8' }, body: req.method === 'HEAD' ? null : defaultErrorBody(401) };
  }
  const headers: ResponseHeaders = { Allow: allow };
  if (rules.allowOrigin?.trim() === '*') {
    headers['Access-Control-Allow-Origin'] = '*';
  } else {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Vary'] = 'Origin';
  }
  if (rules.maxAge !== undefined) headers['Access-Control-Max-Age'] = rules.maxAge;
  headers['Access-Control-Allow-Methods'] = allow;
  const requested = new Set((req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim()).filter((h) => h !== ''));
  if (requested.size > 0) {
    headers['Access-Control-Allow-Headers'] = [...requested].join(', ');
    headers['Vary'] = headers['Vary'] === undefined ? 'Access-Control-Request-Headers' : `${String(headers['Vary'])}, Access-Control-Request-Headers`;
  }
  return { status: 200, headers, body: '' };
}

/**
 * Swift's `cors_validation`: a container or object request with `Origin` gets
 * `Access-Control-Allow-Origin` (`*` when the container allows every origin) and
 * `Access-Control-Expose-Headers` (Swift's, the proxy's, the response's user metadata and the
 * container's), on errors too; in strict mode only when the origin is allowed. Costs nothing
 * for a request without `Origin`.
 */
export async function withCors(ctx: ProxyContext, req: ProxyRequest, account: string, container: string, handle: () => Promise<ServerResponse>): Promise<ServerResponse> {
  const origin = req.headers['origin'];
  if (origin === undefined) return handle();
  const rules = corsRules(await ctx.info.container(account, container, req.env.transId));
  if (ctx.config.strict_cors_mode && !originAllowed(ctx, rules, origin)) return handle();
  let response: ServerResponse;
  try {
    response = await handle();
  } catch (err) {
    const error = commonHttpError(err);
    if (!error) throw err;
    throw new HttpError(error.status, error.body, { ...error.headers, ...corsHeaders(ctx, rules, origin, error.headers) }, { cause: err });
  }
  return { ...response, headers: { ...response.headers, ...corsHeaders(ctx, rules, origin, response.headers ?? {}) } };
}

/** The CORS headers to add to a response with `headers` (those already set are kept; `Vary` is extended). */
function corsHeaders(ctx: ProxyContext, rules: CorsRules, origin: string, headers: Readonly<ResponseHeaders>): Record<string, string> {
  const out: Record<string, string> = {};
  const names = Object.keys(headers).map((k) => k.toLowerCase());
  if (!names.includes('access-control-expose-headers')) {
    const exposed = new Set([...EXPOSED_ALWAYS, ...ctx.config.cors_expose_headers.map((h) => h.toLowerCase())]);
    for (const name of names) if (name.startsWith('x-container-meta') || name.startsWith('x-object-meta')) exposed.add(name);
    for (const h of (rules.exposeHeaders ?? '').split(' ')) if (h.trim() !== '') exposed.add(h.trim().toLowerCase());
    out['Access-Control-Expose-Headers'] = [...exposed].join(', ');
  }
  if (!names.includes('access-control-allow-origin')) {
    if (rules.allowOrigin?.trim() === '*') {
      out['Access-Control-Allow-Origin'] = '*';
    } else {
      out['Access-Control-Allow-Origin'] = origin;
      const vary = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
      if (vary === undefined) out['Vary'] = 'Origin';
      else out[vary] = `${String(headers[vary])}, Origin`;
    }
  }
  return out;
}
