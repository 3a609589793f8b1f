import type { ConfigsOf } from '../common/config.ts';
import { accessMiddlewares } from './access-middlewares.ts';
import type { ProxyContext } from './context.ts';
import { largeObjectMiddlewares } from './large-object-middlewares.ts';
import { bulkOptions, bulkSchema } from './middleware/bulk.ts';
import type { Capabilities } from './middleware/info.ts';
import { dloSchema, sloSchema } from './middleware/large-object-config.ts';
import { tempUrlOptions, tempurlSchema } from './middleware/tempurl.ts';
import type { Middleware } from './request.ts';

/** The config sections of the optional middlewares (Swift's `[filter:<name>]` sections). */
export const middlewareSchemas = { bulk: bulkSchema, tempurl: tempurlSchema, slo: sloSchema, dlo: dloSchema } as const;

export type MiddlewareConfigs = ConfigsOf<typeof middlewareSchemas>;

/**
 * The optional middlewares of the pipeline, in Swift's order: bulk and tempurl before
 * authentication; copy, slo and dlo after it. Each registers its limits in `/info`.
 * Without `config`, Swift's defaults.
 */
export function proxyMiddlewares(ctx: ProxyContext, capabilities: Capabilities, config?: MiddlewareConfigs): { beforeAuth: Middleware[]; afterAuth: Middleware[] } {
  const access = accessMiddlewares(ctx, capabilities, config && { bulk: bulkOptions(config.bulk), tempurl: tempUrlOptions(config.tempurl) });
  return { beforeAuth: access.beforeAuth, afterAuth: [...access.afterAuth, ...largeObjectMiddlewares(ctx, capabilities, config)] };
}
