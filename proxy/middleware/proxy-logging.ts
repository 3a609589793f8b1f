import type { Clock } from '../../common/clock.ts';
import type { Middleware } from '../request.ts';

/** One log line per client request (Swift's proxy-logging): method, path, status, time, txn. */
export function proxyLogging(clock: Clock, enabled: boolean): Middleware {
  return (next) => async (req) => {
    if (!enabled || req.env.source !== undefined) return next(req);
    const began = clock.monotonic();
    const response = await next(req);
    req.env.logger.info('request', {
      method: req.method,
      path: req.path,
      status: response.status,
      ms: Math.round((clock.monotonic() - began) * 10) / 10,
      client: req.remoteAddress,
      user: req.env.identity?.user,
    });
    return response;
  };
}
