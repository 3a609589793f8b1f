import type { Middleware } from '../request.ts';

/** What the cluster offers, by middleware name: `swift`, `tempauth`, `slo`, `bulk_delete`, ... */
export type Capabilities = Record<string, Record<string, unknown>>;

/**
 * `GET /info` (public): the capabilities every part registered, with their limits, so clients
 * know what they may send (swiftclient asks before bulk deletes and SLO uploads).
 */
export function info(capabilities: Capabilities): Middleware {
  return (next) => async (req) => {
    if (req.path !== '/info') return next(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { Allow: 'GET, HEAD' }, body: '' };
    const body = JSON.stringify(capabilities);
    return { status: 200, headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: req.method === 'HEAD' ? null : body };
  };
}
