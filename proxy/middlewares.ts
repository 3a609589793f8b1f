import { accessMiddlewares } from './access-middlewares.ts';
import type { ProxyContext } from './context.ts';
import { largeObjectMiddlewares } from './large-object-middlewares.ts';
import type { Capabilities } from './middleware/info.ts';
import type { Middleware } from './request.ts';

/**
 * The optional middlewares of the pipeline, in Swift's order: bulk and tempurl before
 * authentication; copy, slo and dlo after it. Each registers its limits in `/info`.
 */
export function proxyMiddlewares(ctx: ProxyContext, capabilities: Capabilities): { beforeAuth: Middleware[]; afterAuth: Middleware[] } {
  const access = accessMiddlewares(ctx, capabilities);
  return { beforeAuth: access.beforeAuth, afterAuth: [...access.afterAuth, ...largeObjectMiddlewares(ctx, capabilities)] };
}
