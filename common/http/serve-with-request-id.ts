import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ServerRequest, ServerResponse } from './server.ts';

/**
 * The frame of every OpenStack API request: a fresh `req-<uuid>` (the services'
 * `x-openstack-request-id`), the answer or the service's rendering of what was thrown, and one
 * log line with the status and the time taken.
 */
export async function serveWithRequestId(
  req: ServerRequest,
  deps: { readonly clock: Clock; readonly logger: Logger },
  answer: (requestId: string, started: number) => Promise<ServerResponse>,
  fail: (err: unknown, requestId: string, started: number) => ServerResponse,
): Promise<ServerResponse> {
  const started = deps.clock.monotonic();
  const requestId = `req-${randomUUID()}`;
  let res: ServerResponse;
  try {
    res = await answer(requestId, started);
  } catch (err) {
    res = fail(err, requestId, started);
  }
  deps.logger.info('request', { method: req.method, path: req.path, status: res.status, ms: Math.round(deps.clock.monotonic() - started), request_id: requestId });
  return res;
}
