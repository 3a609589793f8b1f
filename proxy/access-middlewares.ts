import type { ProxyContext } from './context.ts';
import type { Capabilities } from './middleware/info.ts';
import type { Middleware } from './request.ts';

/** Bulk and TempURL run before auth; copy after it (Swift's pipeline order). */
export function accessMiddlewares(_ctx: ProxyContext, _capabilities: Capabilities): { beforeAuth: Middleware[]; afterAuth: Middleware[] } {
  return { beforeAuth: [], afterAuth: [] };
}
