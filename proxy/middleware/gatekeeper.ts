import type { ResponseHeaders } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';

/** Headers for storage nodes' eyes only; Swift's gatekeeper keeps them out of both directions. */
function internal(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('x-backend-') || /^x-(account|container|object)-sysmeta-/.test(n) || n.startsWith('x-object-transient-sysmeta-');
}

/**
 * Swift's gatekeeper: a client may not send backend or system-metadata headers (they would
 * let it forge internal state), and never sees them in responses. Middlewares after it may
 * set them.
 */
export const gatekeeper: Middleware = (next) => async (req) => {
  if (req.env.source === undefined) {
    for (const name of Object.keys(req.headers)) if (internal(name)) delete req.headers[name];
  }
  const response = await next(req);
  if (req.env.source !== undefined || !response.headers) return response;
  const headers: ResponseHeaders = {};
  for (const [k, v] of Object.entries(response.headers)) if (!internal(k)) headers[k] = v;
  return { ...response, headers };
};
