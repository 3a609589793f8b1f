import { parseSwiftPath, type SwiftPath } from '../swift-path.ts';

/**
 * Paths of manifests, segments and segment containers. Subrequest paths are percent-encoded
 * like client paths; names inside manifests, listings and headers are decoded text.
 */

/** The decoded parts of `/v1/a[/c[/o]]`, or undefined for any other path (`/info`, `/auth/v1.0`). */
export function requestTarget(path: string): SwiftPath | undefined {
  try {
    return parseSwiftPath(path);
  } catch {
    return undefined;
  }
}

/** The percent-encoded path `/<version>/<account>/<rest>`, where `rest` keeps its slashes. */
export function swiftPath(version: string, account: string, rest?: string): string {
  const encoded = `/${encodeURIComponent(version)}/${encodeURIComponent(account)}`;
  if (rest === undefined || rest === '') return encoded;
  return `${encoded}/${rest.split('/').map(encodeURIComponent).join('/')}`;
}

/** Python's `unquote`: percent-escapes decoded, a malformed one left as it is. */
export function unquotePath(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** `/container/object` (leading slash optional) split at its first slash; undefined when either part is empty. */
export function splitSegmentName(name: string): { container: string; object: string } | undefined {
  const trimmed = name.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) return undefined;
  return { container: trimmed.slice(0, slash), object: trimmed.slice(slash + 1) };
}
