import type { Middleware } from '../request.ts';

/** `GET /healthcheck` → 200 `OK`, for load balancers (Swift's healthcheck middleware). */
export const healthcheck: Middleware = (next) => async (req) => {
  if (req.path !== '/healthcheck') return next(req);
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: req.method === 'HEAD' ? null : 'OK' };
};
