import { checkAccountName, checkContainerName } from '../common/constraints.ts';
import { HttpError } from '../common/http/http-error.ts';
import { allowsReservedNames, validateInternalNames } from '../common/reserved-name.ts';
import type { ProxyContext } from './context.ts';
import { accountMethods, accountRequest } from './controllers/account.ts';
import { CONTAINER_METHODS, containerRequest } from './controllers/container.ts';
import { corsPreflight, withCors } from './controllers/cors.ts';
import { OBJECT_METHODS, objectRequest } from './controllers/object.ts';
import { parseSwiftPath } from './swift-path.ts';
import type { ProxyHandler } from './request.ts';

/**
 * The innermost handler: `/v1/<account>[/<container>[/<object>]]` to its controller; `OPTIONS`
 * to the CORS preflight, and container and object requests with `Origin` through CORS.
 * Reserved (NUL-led) names only for the proxy's own subrequests
 * (`X-Backend-Allow-Reserved-Names`).
 */
export function proxyApp(ctx: ProxyContext): ProxyHandler {
  return async (req) => {
    const internal = allowsReservedNames(req.headers);
    const path = parseSwiftPath(req.path, internal);
    // Swift's APIVersionError: a plain 400.
    if (!ctx.constraints.valid_api_versions.includes(path.version)) throw new HttpError(400);
    checkAccountName(path.account, ctx.constraints, internal);
    if (path.container === undefined) return req.method === 'OPTIONS' ? corsPreflight(ctx, req, { account: path.account }, accountMethods(ctx)) : accountRequest(ctx, req, path.account);
    checkContainerName(path.container, ctx.constraints, internal);
    const { account, container, object } = path;
    if (object === undefined) {
      if (req.method === 'OPTIONS') return corsPreflight(ctx, req, { account, container }, CONTAINER_METHODS);
      return withCors(ctx, req, account, container, () => containerRequest(ctx, req, account, container));
    }
    validateInternalNames(account, container, object);
    if (req.method === 'OPTIONS') return corsPreflight(ctx, req, { account, container, object }, OBJECT_METHODS);
    return withCors(ctx, req, account, container, () => objectRequest(ctx, req, account, container, object));
  };
}
