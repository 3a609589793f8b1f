import type { HeaderBag } from '../constraints.ts';
import { ConstraintError } from '../errors.ts';
import { Timestamp } from '../timestamp.ts';
import { titleCaseHeader } from './title-case.ts';

/**
 * Swift's `valid_timestamp`: the request's `X-Timestamp`, which every backend write carries.
 * @throws {ConstraintError} `Missing X-Timestamp header` / `Invalid X-Timestamp header` (400).
 */
export function requestTimestamp(headers: HeaderBag): Timestamp {
  const value = headers['x-timestamp'];
  if (value === undefined) throw new ConstraintError('bad_request', 'Missing X-Timestamp header');
  return parseTimestampHeader(value, 'x-timestamp');
}

/** A timestamp header's value. @throws {ConstraintError} `Invalid <Name> header` (400). */
export function parseTimestampHeader(value: string, name: string): Timestamp {
  try {
    return Timestamp.parse(value);
  } catch {
    throw new ConstraintError('bad_request', `Invalid ${titleCaseHeader(name)} header`);
  }
}
