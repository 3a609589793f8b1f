import { isTrueValue } from './config.ts';
import { ConstraintError } from './errors.ts';

/**
 * Swift's reserved namespace (`RESERVED` in `swift/common/utils.py`, the helpers of
 * `request_helpers.py`): names that start with a NUL byte belong to the cluster itself (object
 * versioning keeps its hidden `\0versions\0<container>` containers there). Only the proxy's
 * own subrequests may name them, by sending `X-Backend-Allow-Reserved-Names: true`, which the
 * gatekeeper never lets a client send; storage servers always accept them, and leave them out
 * of listings unless asked with that header.
 */
export const RESERVED = '\u0000';

/** The header that lets a request name, and list, the reserved namespace. */
export const ALLOW_RESERVED_NAMES_HEADER = 'x-backend-allow-reserved-names';

/** Whether a request (lower-case header names) may use reserved names (Swift's `req.allow_reserved_names`). */
export function allowsReservedNames(headers: Readonly<Record<string, string | undefined>>): boolean {
  return isTrueValue(headers[ALLOW_RESERVED_NAMES_HEADER]);
}

/**
 * Swift's `get_reserved_name`: the parts joined by NUL, after a leading NUL.
 * @throws {RangeError} when a part holds a NUL itself (a caller's mistake, never a client's).
 */
export function reservedName(...parts: string[]): string {
  if (parts.some((p) => p.includes(RESERVED))) throw new RangeError('a reserved name part may not contain NUL');
  return RESERVED + parts.join(RESERVED);
}

/** Swift's `split_reserved_name`: the parts of a reserved name; undefined for a user name. */
export function splitReservedName(name: string): string[] | undefined {
  if (!name.startsWith(RESERVED)) return undefined;
  return name.split(RESERVED).slice(1);
}

/** Whether a name holds no NUL, or is a reserved name (a NUL first): a NUL may only lead a name. */
export function isWellFormedReserved(name: string): boolean {
  return !name.includes(RESERVED) || name.startsWith(RESERVED);
}

function validateInternalName(name: string, type: string): void {
  if (!isWellFormedReserved(name)) throw new ConstraintError('bad_request', `Invalid reserved-namespace ${type}`);
}

/**
 * Swift's `validate_internal_container` / `validate_internal_obj`: a NUL only at the start of a
 * name, and an object in the reserved namespace only in a reserved container (and the other
 * way round), except in the `.`-prefixed system accounts.
 * @throws {ConstraintError} `bad_request` with Swift's message.
 */
export function validateInternalNames(account: string, container?: string, object?: string): void {
  validateInternalName(account, 'account');
  if (container === undefined || container === '') return;
  validateInternalName(container, 'container');
  if (object === undefined || object === '' || account.startsWith('.')) return;
  validateInternalName(object, 'object');
  if (container.startsWith(RESERVED) && !object.startsWith(RESERVED)) throw new ConstraintError('bad_request', 'Invalid user-namespace object in reserved-namespace container');
  if (object.startsWith(RESERVED) && !container.startsWith(RESERVED)) throw new ConstraintError('bad_request', 'Invalid reserved-namespace object in user-namespace container');
}
