import { ConstraintError } from '../common/errors.ts';
import { decodePath, splitPath } from '../common/http/backend-path.ts';
import { HttpError } from '../common/http/http-error.ts';

/** A client path `/v1/<account>[/<container>[/<object>]]`, decoded. */
export interface SwiftPath {
  readonly version: string;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
}

/**
 * Parses `/v1/a/c/o` as Swift's proxy (`get_controller`) does: the path is decoded first (412
 * "Invalid UTF8 or contains NULL"; NUL allowed when `internal`: a subrequest allowed reserved
 * names), then split with `split_path(path, 1, 4, True)`, which
 * refuses an empty first segment (`/`, `//v1/a`: 404); object names keep their slashes. An
 * empty object name (`/v1/a/c/`) is the container, an empty container name alone
 * (`/v1/a/`) the account; anything else without an account, or an object without a
 * container (`/v1`, `/v1/`, `/v1/a//o`), has no controller: 412 "Bad URL".
 * @throws {ConstraintError} 412 for bad UTF-8; {HttpError} 404 or 412 as above.
 */
export function parseSwiftPath(rawPath: string, internal = false): SwiftPath {
  const path = decodePath(rawPath, internal);
  let parts: (string | undefined)[];
  try {
    parts = splitPath(path, 1, 4, true);
  } catch (err) {
    if (err instanceof ConstraintError) throw new HttpError(404, undefined, {}, { cause: err });
    throw err;
  }
  // Indexed, not destructured: array destructuring walks an iterator.
  const version = parts[0] ?? '';
  const account = parts[1];
  const container = parts[2];
  const object = parts[3];
  if (!account || (object && !container)) throw new HttpError(412, 'Bad URL');
  // One literal per shape: the parse runs several times per request (the app, and middlewares through `requestTarget`).
  if (!container) return { version, account };
  return object ? { version, account, container, object } : { version, account, container };
}

/**
 * A request path as a middleware reads it before the controllers (Swift's
 * `req.split_path(2, 4, True)`, where a `ValueError` means "not mine, pass it on"): decoded,
 * split, the object keeping its slashes; undefined for a path that is not one (no account,
 * bad UTF-8, an object under an empty container name), which the controllers then refuse.
 * The version is not checked; reserved names only when `internal`.
 */
export function swiftPathOf(rawPath: string, internal = false): SwiftPath | undefined {
  try {
    const parts = splitPath(decodePath(rawPath, internal), 2, 4, true);
    const version = parts[0] as string;
    const account = parts[1] as string;
    const container = parts[2];
    const object = parts[3];
    if (container === '' && object !== undefined && object !== '') return undefined;
    if (!container) return { version, account };
    return object ? { version, account, container, object } : { version, account, container };
  } catch {
    return undefined;
  }
}
