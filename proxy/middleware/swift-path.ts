import { decodePath, splitPath } from '../../common/http/backend-path.ts';

/** `/<version>/<account>[/<container>[/<object>]]`, decoded. */
export interface ApiPath {
  readonly version: string;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
}

/**
 * A request path as a middleware reads it before the controllers (Swift's
 * `req.split_path(2, 4, True)` where a `ValueError` means "not mine, pass it on"): decoded,
 * split, the object keeping its slashes; undefined for a path that is not one (no account,
 * bad UTF-8, an object under an empty container name), which the controllers then refuse.
 * The version is not checked.
 */
export function swiftPathOf(rawPath: string): ApiPath | undefined {
  try {
    const [version, account, container, object] = splitPath(decodePath(rawPath), 2, 4, true) as [string, string, string | undefined, string | undefined];
    if (container === '' && object !== undefined && object !== '') return undefined;
    return {
      version,
      account,
      ...(container ? { container } : {}),
      ...(container && object ? { object } : {}),
    };
  } catch {
    return undefined;
  }
}
