import { SwiftError } from '../../common/errors.ts';
import { commonHttpError } from '../../common/http/domain-status.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { errorResponse, type ResponseHeaders, type ServerResponse } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';

/**
 * The proxy's edge (Swift's `catch_errors`): every response, errors included, carries the
 * transaction id as `X-Trans-Id` and `X-Openstack-Request-Id` and a `Content-Type`; domain
 * errors become their statuses here; anything unexpected is a logged 500.
 */
export const catchErrors: Middleware = (next) => async (req) => {
  let response: ServerResponse;
  try {
    response = await next(req);
  } catch (err) {
    response = errorResponse(toHttpError(err), req.env.logger, req);
  }
  const headers: ResponseHeaders = { ...response.headers, 'X-Trans-Id': req.env.transId, 'X-Openstack-Request-Id': req.env.transId };
  // Every swob response starts as `text/html; charset=UTF-8`, so Swift's answers without a
  // type of their own (a DELETE's 204, a POST's 202) still carry one.
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/html; charset=UTF-8';
  return { ...response, headers };
};

/** Domain errors to statuses; an unknown error passes through (and becomes a 500). */
export function toHttpError(err: unknown): unknown {
  const common = commonHttpError(err);
  if (common) return common;
  if (err instanceof SwiftError && err.code.startsWith('BACKEND_')) return new HttpError(503, undefined, {}, { cause: err });
  return err;
}
