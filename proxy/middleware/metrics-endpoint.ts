import { metricsResponse } from '../../common/http/metrics-response.ts';
import type { Middleware } from '../request.ts';

/** `GET /metrics`: the proxy's metrics in Prometheus's text format, for a scraper. */
export function metricsEndpoint(text: () => Promise<string>): Middleware {
  return (next) => async (req) => (req.path === '/metrics' ? metricsResponse(req.method, text) : next(req));
}
