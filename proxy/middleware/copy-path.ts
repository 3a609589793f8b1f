import { HttpError } from '../../common/http/http-error.ts';
import { unquoteHeader } from './url-quote.ts';

/** The container and object a `Destination` or `X-Copy-From` header names. */
export interface CopyPath {
  readonly container: string;
  readonly object: string;
}

/** The headers that name an object this way. */
export type ObjectPathHeader = 'Destination' | 'X-Copy-From' | 'X-Symlink-Target';

const FORM: Readonly<Record<ObjectPathHeader, string>> = {
  'Destination': 'Destination header must be of the form <container name>/<object name>',
  'X-Copy-From': 'X-Copy-From header must be of the form <container name>/<object name>',
  'X-Symlink-Target': 'X-Symlink-Target header must be of the form <container name>/<object name>',
};

/**
 * Swift's `check_path_header` for `Destination`, `X-Copy-From` and `X-Symlink-Target`: the value is unquoted (raw
 * UTF-8 and `%XX` escapes both work), a leading `/` is optional, and it must name a container
 * and an object, both non-empty; the object keeps any further slashes (`c/a/b` is object
 * `a/b`, `c//o` is object `/o`). NUL only when `internal` (a request allowed reserved names).
 * @throws {HttpError} 412 with Swift's message when it does not.
 */
export function parseCopyPath(value: string, header: ObjectPathHeader, internal = false): CopyPath {
  const text = unquoteHeader(value, internal);
  if (text === undefined) throw new HttpError(412, 'Invalid UTF8 or contains NULL');
  const path = text.startsWith('/') ? text : `/${text}`;
  const slash = path.indexOf('/', 1);
  const container = slash === -1 ? '' : path.slice(1, slash);
  const object = slash === -1 ? '' : path.slice(slash + 1);
  if (container === '' || object === '') throw new HttpError(412, FORM[header]);
  return { container, object };
}

/**
 * Swift's `check_account_format` for `Destination-Account` and `X-Copy-From-Account`: unquoted,
 * not empty, no slash.
 * @throws {HttpError} 412 with Swift's message otherwise.
 */
export function parseAccountHeader(value: string): string {
  const account = unquoteHeader(value);
  if (account === undefined) throw new HttpError(412, 'Invalid UTF8 or contains NULL');
  if (account === '') throw new HttpError(412, 'Account name cannot be empty');
  if (account.includes('/')) throw new HttpError(412, 'Account name cannot contain slashes');
  return account;
}
