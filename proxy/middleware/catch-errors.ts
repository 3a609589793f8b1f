import { ConstraintError, InvalidPathError, SwiftError, TimestampError } from '../../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../common/http/body-reader.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { errorResponse, type ServerResponse } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';

const CONSTRAINT_STATUS = { bad_request: 400, too_large: 413, length_required: 411, not_acceptable: 406, precondition: 412 } as const;

/**
 * The proxy's edge (Swift's `catch_errors`): every response, errors included, carries the
 * transaction id as `X-Trans-Id` and `X-Openstack-Request-Id`; domain errors become their
 * statuses here; anything unexpected is a logged 500.
 */
export const catchErrors: Middleware = (next) => async (req) => {
  let response: ServerResponse;
  try {
    response = await next(req);
  } catch (err) {
    response = errorResponse(toHttpError(err), req.env.logger, req);
  }
  return { ...response, headers: { ...response.headers, 'X-Trans-Id': req.env.transId, 'X-Openstack-Request-Id': req.env.transId } };
};

/** Domain errors to statuses; an unknown error passes through (and becomes a 500). */
export function toHttpError(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  if (err instanceof ConstraintError) return new HttpError(CONSTRAINT_STATUS[err.kind], err.message);
  if (err instanceof InvalidPathError) return new HttpError(400, 'Invalid path');
  if (err instanceof TimestampError) return new HttpError(400, err.message);
  if (err instanceof ClientTimeoutError) return new HttpError(408);
  if (err instanceof ClientDisconnectError) return new HttpError(499);
  if (err instanceof SwiftError && err.code.startsWith('BACKEND_')) return new HttpError(503);
  return err;
}
