import { commonHttpError } from '../http/domain-status.ts';
import { HttpError } from '../http/http-error.ts';
import { DatabasesClosedError } from './device-dbs.ts';
import { DatabaseAlreadyExistsError, DatabaseNoSpaceError, DatabaseNotFoundError, ReplicationRequestError } from './errors.ts';

/** The edge of the account and container servers: their domain errors to statuses (others are left as they are: a 500). */
export function databaseHttpError(err: unknown): unknown {
  const common = commonHttpError(err);
  if (common) return common;
  if (err instanceof ReplicationRequestError) return new HttpError(400, err.message, {}, { cause: err });
  if (err instanceof DatabaseNotFoundError) return new HttpError(404, undefined, {}, { cause: err });
  if (err instanceof DatabaseAlreadyExistsError) return new HttpError(409, undefined, {}, { cause: err });
  if (err instanceof DatabaseNoSpaceError) return new HttpError(507, undefined, {}, { cause: err });
  if (err instanceof DatabasesClosedError) return new HttpError(503, undefined, {}, { cause: err });
  return err;
}
