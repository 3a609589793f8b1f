import type { Clock } from '../clock.ts';
import { ConstraintError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { decodePath } from './backend-path.ts';
import { HttpError } from './http-error.ts';
import { errorResponse, type Handler, type ServerRequest, type ServerResponse } from './server.ts';

/** A storage server's handler for one verb: the request and its decoded path. */
export type StorageRoute = (req: ServerRequest, path: string) => Promise<ServerResponse>;

/**
 * The request loop every storage server shares: decode the path as Swift does (412 for bad
 * UTF-8; NUL is allowed, as Swift's servers allow the reserved namespace), route by verb (405 otherwise), turn domain errors into statuses with the
 * server's `toHttpError` (its edge), and log one line per request with the transaction id
 * (REPLICATE and SSYNC at debug level: replication is chatty).
 */
export function storageHandler(options: {
  readonly name: string;
  readonly routes: Readonly<Record<string, StorageRoute>>;
  readonly toHttpError: (err: unknown) => unknown;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly logRequests: boolean;
}): Handler {
  const allow = Object.keys(options.routes).join(', ');
  return async (req) => {
    const started = options.clock.monotonic();
    let res: ServerResponse;
    let failure: unknown;
    try {
      const route = options.routes[req.method];
      if (!route) throw new HttpError(405, undefined, { Allow: allow });
      // Storage servers take reserved (NUL-led) names: only the proxy's own requests reach them.
      res = await route(req, decodePath(req.path, true));
    } catch (err) {
      failure = err;
      res = errorResponse(options.toHttpError(err), options.logger, req);
      // Swift's storage servers refuse bad input (`check_object_creation`, `check_metadata`,
      // `get_param`) in `text/plain`; their 412s are swob's default HTML.
      if (err instanceof ConstraintError && err.kind !== 'precondition') res = { ...res, headers: { ...res.headers, 'Content-Type': 'text/plain' } };
    }
    if (res.status === 507) {
      // An unmounted or full disk is the operator's to fix: never only at info level.
      options.logger.warn(`${options.name} request refused: insufficient storage`, { method: req.method, path: req.path, status: 507, reason: failure instanceof Error ? failure.message : undefined, txn: req.headers['x-trans-id'] });
    } else if (options.logRequests) {
      const line = { method: req.method, path: req.path, status: res.status, ms: Math.round(options.clock.monotonic() - started), txn: req.headers['x-trans-id'] };
      if (req.method === 'REPLICATE' || req.method === 'SSYNC') options.logger.debug(`${options.name} request`, line);
      else options.logger.info(`${options.name} request`, line);
    }
    return res;
  };
}
