import type { Schema } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ProxyContext } from '../context.ts';
import type { AuthDecision, AuthorizeRequest, Middleware } from '../request.ts';
import { isDigits, quotaExceeded } from './container-quotas.ts';
import type { Capabilities } from './info.ts';
import { swiftPathOf } from '../swift-path.ts';

/** The `[account-quotas]` section: Swift's filter has no settings. */
export const accountQuotasSchema = {} as const satisfies Schema;

/**
 * Swift 2.30's `account_quotas` middleware, after auth:
 * - only a reseller admin may set `X-Account-Meta-Quota-Bytes` (or remove it with
 *   `X-Remove-Account-Meta-Quota-Bytes`) on an account: anyone else gets 403; a reseller's
 *   value that is not a whole number is 400;
 * - an object PUT that would take the account past its quota (its bytes plus the upload's
 *   Content-Length; a chunked upload counts 0) is refused with 413 `Upload exceeds quota.`,
 *   but only once the request is otherwise authorized: the refusal goes in as the authorizer's
 *   answer, so a stranger still sees 401/403. DELETEs are never refused, so a full account can
 *   always be emptied. (2.30 has no per-policy account quotas.)
 */
export function accountQuotas(ctx: ProxyContext, capabilities: Capabilities): Middleware {
  capabilities['account_quotas'] = {};
  return (next) => async (req) => {
    if (req.method !== 'POST' && req.method !== 'PUT') return next(req);
    const path = swiftPathOf(req.path);
    if (!path) return next(req);
    let newQuota: string | undefined;
    if (path.container === undefined) {
      newQuota = req.headers['x-account-meta-quota-bytes'];
      // X-Remove dominates when both are sent.
      if (req.headers['x-remove-account-meta-quota-bytes']) newQuota = '0';
    }
    if (req.env.identity?.groups.includes('.reseller_admin')) {
      if (newQuota && !isDigits(newQuota)) throw new HttpError(400);
      return next(req);
    }
    if (newQuota !== undefined) throw new HttpError(403);
    if (req.method === 'POST' || path.object === undefined) return next(req);

    const info = await ctx.info.account(path.account, req.env.transId);
    const quotaValue = info.meta['quota-bytes'];
    if (quotaValue === undefined || !/^\s*[+-]?\d+\s*$/.test(quotaValue)) return next(req);
    const quota = Number(quotaValue);
    if (quota < 0) return next(req);
    const length = Number(req.headers['content-length'] ?? 0) || 0;
    if (quota >= info.bytes + length) return next(req);
    const authorize = req.env.authorize;
    if (req.env.authorized || !authorize) throw quotaExceeded();
    req.env.authorize = async (request: AuthorizeRequest): Promise<AuthDecision> => {
      const decision = await authorize(request);
      return decision.denied ? decision : { denied: quotaExceeded() };
    };
    return next(req);
  };
}
