import type { ProxyContext } from './context.ts';
import { bulk, type BulkOptions } from './middleware/bulk.ts';
import { copy } from './middleware/copy.ts';
import type { Capabilities } from './middleware/info.ts';
import { tempurl, type TempUrlOptions } from './middleware/tempurl.ts';
import type { Middleware } from './request.ts';

/**
 * Bulk and TempURL run before auth (bulk's subrequests carry the client's token through it;
 * TempURL admits requests that have no token); copy after it, so its GET and PUT subrequests
 * are authorized as the client (Swift's pipeline order). Each registers itself in `/info`.
 */
export function accessMiddlewares(ctx: ProxyContext, capabilities: Capabilities, options?: { bulk: BulkOptions; tempurl: TempUrlOptions }): { beforeAuth: Middleware[]; afterAuth: Middleware[] } {
  return { beforeAuth: [bulk(ctx, capabilities, options?.bulk), tempurl(ctx, capabilities, options?.tempurl)], afterAuth: [copy(ctx)] };
}
