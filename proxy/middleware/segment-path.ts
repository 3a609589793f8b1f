import { parseSwiftPath, type SwiftPath } from '../swift-path.ts';

/**
 * Paths of manifests, segments and segment containers. Subrequest paths are percent-encoded
 * like client paths; names inside manifests, listings and headers are decoded text.
 */

/**
 * The decoded parts of `/v1/a[/c[/o]]`, or undefined for any other path (`/info`, `/auth/v1.0`);
 * reserved names only when `internal`.
 */
export function requestTarget(path: string, internal = false): SwiftPath | undefined {
  try {
    return parseSwiftPath(path, internal);
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

/**
 * Swift's `wsgi_to_str(wsgi_unquote(value))` for a header value: node hands header values
 * over one char per byte (latin-1), so raw UTF-8 bytes and percent-escapes alike become
 * bytes, which are then read as UTF-8 (a malformed escape stays as it is). A value that holds
 * text already (chars above U+00FF, set inside the proxy) keeps it.
 */
export function unquoteHeader(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c <= 0xff) {
      bytes.push(c);
    } else {
      const char = String.fromCodePoint(value.codePointAt(i) ?? c);
      bytes.push(...Buffer.from(char, 'utf8'));
      i += char.length - 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `/container/object` (leading slash optional) split at its first slash; undefined when either part is empty. */
export function splitSegmentName(name: string): { container: string; object: string } | undefined {
  const trimmed = name.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) return undefined;
  return { container: trimmed.slice(0, slash), object: trimmed.slice(slash + 1) };
}
