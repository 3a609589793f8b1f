import { ConstraintError, DeviceUnavailableError, InvalidPathError, TimestampError } from '../errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from './body-reader.ts';
import { HttpError } from './http-error.ts';

/** The status of each kind of broken constraint. */
export const CONSTRAINT_STATUS: Readonly<Record<ConstraintError['kind'], number>> = {
  bad_request: 400,
  too_large: 413,
  length_required: 411,
  not_acceptable: 406,
  precondition: 412,
  not_implemented: 501,
};

/**
 * The statuses of the domain errors every server shares: bad input (400, 411, 412, 413),
 * a missing device (507), a slow (408) or vanished (499) client. Returns undefined for any
 * other error, which the server maps itself or lets become a 500.
 */
export function commonHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof ConstraintError) return new HttpError(CONSTRAINT_STATUS[err.kind], err.message, {}, { cause: err });
  if (err instanceof InvalidPathError || err instanceof TimestampError) return new HttpError(400, err.message, {}, { cause: err });
  if (err instanceof DeviceUnavailableError) return new HttpError(507, undefined, {}, { cause: err });
  if (err instanceof ClientTimeoutError) return new HttpError(408, undefined, {}, { cause: err });
  if (err instanceof ClientDisconnectError) return new HttpError(499, undefined, {}, { cause: err });
  return undefined;
}
