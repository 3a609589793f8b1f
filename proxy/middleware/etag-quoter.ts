import { bool, type ConfigOf, isTrueValue, type Schema } from '../../common/config.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware } from '../request.ts';
import type { Capabilities } from './info.ts';
import { isSuccess } from './subresponse.ts';
import { swiftPathOf } from '../swift-path.ts';

/** The `[etag-quoter]` section (Swift's `[filter:etag-quoter]`), with Swift 2.30's default. */
export const etagQuoterSchema = {
  enable_by_default: bool(false, 'quote object ETags (RFC 7232) unless an account or container says otherwise'),
} as const satisfies Schema;

const FLAG = 'rfc-compliant-etags';

/**
 * Swift's `etag_quoter` middleware: object responses get an RFC 7232 quoted `ETag`
 * (`"d41d8cd98f00b204e9800998ecf8427e"`) when the container says so
 * (`X-Container-Rfc-Compliant-Etags: true`), or, when the container says nothing, the account
 * (`X-Account-Rfc-Compliant-Etags`), or, when neither does, `enable_by_default`. An account or
 * container sets it with POST or PUT; the value is kept as system metadata
 * (`X-*-Sysmeta-Rfc-Compliant-Etags`, `True`/`False`, an empty value removes it) and shown
 * back under the client's name. ETags already quoted (or weak, `W/"..."`) are left alone.
 *
 * The object's answer comes first, then the flags, from the proxy's account and container
 * info, which the object request itself has just read: a plain GET makes no extra request.
 */
export function etagQuoter(ctx: ProxyContext, capabilities: Capabilities, config: ConfigOf<typeof etagQuoterSchema>): Middleware {
  capabilities['etag_quoter'] = { enable_by_default: config.enable_by_default };
  return (next) => async (req) => {
    const path = swiftPathOf(req.path);
    if (!path || !ctx.constraints.valid_api_versions.includes(path.version)) return next(req);
    if (path.object === undefined) {
      const kind = path.container === undefined ? 'account' : 'container';
      const client = `x-${kind}-${FLAG}`;
      const sysmeta = `x-${kind}-sysmeta-${FLAG}`;
      const value = req.headers[client];
      if (value !== undefined) req.headers[sysmeta] = value === '' ? '' : isTrueValue(value) ? 'True' : 'False';
      if (req.headers[`x-remove-${kind}-${FLAG}`]) req.headers[sysmeta] = '';
      const response = await next(req);
      if (!response.headers) return response;
      const headers: ResponseHeaders = {};
      for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase() === sysmeta ? client : k] = v;
      return { ...response, headers };
    }
    const response = await next(req);
    const etagName = Object.keys(response.headers ?? {}).find((k) => k.toLowerCase() === 'etag');
    if (etagName === undefined) return response;
    const etag = String(response.headers?.[etagName]);
    if ((etag.startsWith('"') || etag.startsWith('W/"')) && etag.endsWith('"') && etag.length > 1) return response;
    const container = await ctx.info.container(path.account, path.container as string, req.env.transId);
    if (!isSuccess(container.status)) return response;
    let flag = container.sysmeta[FLAG];
    if (flag === undefined) {
      const account = await ctx.info.account(path.account, req.env.transId);
      if (!isSuccess(account.status)) return response;
      flag = account.sysmeta[FLAG];
    }
    if (!(flag === undefined ? config.enable_by_default : isTrueValue(flag))) return response;
    return { ...response, headers: { ...response.headers, [etagName]: `"${etag}"` } };
  };
}
