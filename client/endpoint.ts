import type { BackendNode } from '../common/http/backend-client.ts';
import { ConfigError } from '../common/errors.ts';

/** An HTTP endpoint as the backend client needs it: the node, and the path prefix under it. */
export interface Endpoint {
  readonly node: BackendNode;
  /** The URL's path, percent-encoded as given, without a trailing slash (`/v1/AUTH_test`). */
  readonly path: string;
}

/**
 * Splits an `http://host:port/path` URL. Only plain HTTP: the services talk to proxies inside
 * the cluster's network (TLS, where wanted, ends in front of the proxies, as for Swift).
 * @throws {ConfigError} for another scheme or a URL that does not parse.
 */
export function parseEndpoint(url: string, what = 'url'): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(what, url, 'not a URL');
  }
  if (parsed.protocol !== 'http:') throw new ConfigError(what, url, 'only http:// URLs are supported');
  const ip = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { node: { ip, port: parsed.port === '' ? 80 : Number(parsed.port) }, path: parsed.pathname.replace(/\/+$/, '') };
}
