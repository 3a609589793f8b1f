import type { ProxyContext } from './context.ts';
import type { Capabilities } from './middleware/info.ts';
import type { Middleware } from './request.ts';

/** The large-object middlewares (after auth, in Swift's order: slo, then dlo). */
export function largeObjectMiddlewares(_ctx: ProxyContext, _capabilities: Capabilities): Middleware[] {
  return [];
}
