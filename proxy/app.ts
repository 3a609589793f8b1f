import { checkAccountName, checkContainerName } from '../common/constraints.ts';
import { HttpError } from '../common/http/http-error.ts';
import type { ProxyContext } from './context.ts';
import { accountRequest } from './controllers/account.ts';
import { containerRequest } from './controllers/container.ts';
import { objectRequest } from './controllers/object.ts';
import { parseSwiftPath } from './swift-path.ts';
import type { ProxyHandler } from './request.ts';

/** The innermost handler: `/v1/<account>[/<container>[/<object>]]` to its controller. */
export function proxyApp(ctx: ProxyContext): ProxyHandler {
  return async (req) => {
    const path = parseSwiftPath(req.path);
    if (!ctx.constraints.valid_api_versions.includes(path.version)) throw new HttpError(412, `Invalid API version: ${path.version}`);
    checkAccountName(path.account, ctx.constraints);
    if (path.container === undefined) return accountRequest(ctx, req, path.account);
    checkContainerName(path.container, ctx.constraints);
    if (path.object === undefined) return containerRequest(ctx, req, path.account, path.container);
    return objectRequest(ctx, req, path.account, path.container, path.object);
  };
}
