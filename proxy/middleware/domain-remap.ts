import { bool, type ConfigOf, list, type Schema, str } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { decodePath } from '../../common/http/backend-path.ts';
import type { ResponseHeaders, ServerResponse } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';
import type { Capabilities } from './info.ts';
import { pyQuote } from './url-quote.ts';

/** The `[domain_remap]` section (Swift's `[filter:domain_remap]`), with Swift 2.30's defaults. */
export const domainRemapSchema = {
  storage_domain: list(['example.com'], 'domains whose subdomains name an account (<account>.<domain>) or a container (<container>.<account>.<domain>)'),
  path_root: str('v1', { doc: 'API version put in front of remapped paths' }),
  reseller_prefixes: list(['AUTH'], 'account prefixes recognised in a host name (any case; - for _)'),
  default_reseller_prefix: str('', { doc: 'prefix given to a host-name account with none of reseller_prefixes; empty: leave such requests alone' }),
  mangle_client_paths: bool(false, 'drop a leading /<path_root> from the client path (c.a.example.com/v1/o is object o)'),
} as const satisfies Schema;

/** What a host name stands for. */
export interface RemappedHost {
  readonly account: string;
  readonly container?: string;
}

/**
 * Swift's `domain_remap` middleware, before everything that reads the path: a request whose
 * Host is `<account>.<storage_domain>` or `<container>.<account>.<storage_domain>` has the
 * account (and container) put in front of its path: `GET /o` with Host
 * `photos.AUTH-test.example.com` becomes `GET /v1/AUTH_test/photos/o`, the Host staying as it
 * was. The account's reseller prefix is matched without regard to case (host names are often
 * lower-cased) and its first `-` may stand for the `_`. `Location` and `Content-Location` in
 * the answer are mapped back to the client's path (a redirect to `/v1/AUTH_test/photos/dir/`
 * is sent as `/dir/`). A host with more labels before the domain is a 400.
 */
export function domainRemap(config: ConfigOf<typeof domainRemapSchema>, capabilities: Capabilities): Middleware {
  capabilities['domain_remap'] = { default_reseller_prefix: config.default_reseller_prefix === '' ? null : config.default_reseller_prefix };
  const domains = [...config.storage_domain.filter((d) => !d.startsWith('.')).map((d) => `.${d}`), ...config.storage_domain.filter((d) => d.startsWith('.'))];
  const root = config.path_root.replace(/^\/+|\/+$/g, '');
  return (next) => async (req) => {
    const host = req.headers['host'];
    if (domains.length === 0 || host === undefined) return next(req);
    const remapped = remapHost(host, domains, config);
    if (remapped === undefined) return next(req);
    let rest = req.path.slice(1);
    if (config.mangle_client_paths && `${rest}/`.startsWith(`${root}/`)) rest = rest.slice(root.length + 1);
    // Header values arrive one char per byte: the names are quoted as the bytes they are.
    const quoted = (name: string): string => pyQuote(Buffer.from(name, 'latin1'));
    const path = ['', root, quoted(remapped.account), ...(remapped.container !== undefined ? [quoted(remapped.container)] : []), rest].join('/');
    const response = await next({ ...req, path });
    return mapLocations(response, req.path, path);
  };
}

/**
 * The account and container a Host names, or undefined when it is not under a storage domain
 * or names an account with an unknown reseller prefix (and no default).
 * @throws {HttpError} 400 `Bad domain in host header` for more than two labels before the domain.
 */
export function remapHost(hostHeader: string, domains: readonly string[], config: Pick<ConfigOf<typeof domainRemapSchema>, 'reseller_prefixes' | 'default_reseller_prefix'>): RemappedHost | undefined {
  const colon = hostHeader.lastIndexOf(':');
  const given = colon === -1 ? hostHeader : hostHeader.slice(0, colon);
  const domain = domains.find((d) => given.endsWith(d));
  if (domain === undefined) return undefined;
  const labels = given.slice(0, -domain.length).replace(/^\.+|\.+$/g, '').split('.');
  if (labels.length > 2) throw new HttpError(400, 'Bad domain in host header', { 'Content-Type': 'text/plain' });
  let [account, container] = (labels.length === 2 ? [labels[1], labels[0]] : [labels[0], undefined]) as [string, string | undefined];
  const prefixes = config.reseller_prefixes;
  if (prefixes.length > 0) {
    if (!account.includes('_') && account.includes('-')) account = account.replace('-', '_');
    const found = (account.split('_')[0] as string).toLowerCase();
    const index = prefixes.findIndex((p) => p.toLowerCase() === found);
    if (index !== -1) {
      const real = prefixes[index] as string;
      if (!account.startsWith(real)) account = real + account.slice(real.length);
    } else if (config.default_reseller_prefix !== '') {
      account = `${config.default_reseller_prefix}_${account}`;
    } else {
      return undefined;
    }
  }
  return { account, ...(container !== undefined ? { container } : {}) };
}

/** Swift's `RewriteContext`: absolute `Location`s under the rewritten path, back under the client's. */
function mapLocations(response: ServerResponse, requested: string, rewritten: string): ServerResponse {
  if (!response.headers) return response;
  let from: string;
  let to: string;
  try {
    from = pyQuote(decodePath(rewritten));
    to = pyQuote(decodePath(requested));
  } catch {
    return response;
  }
  let changed = false;
  const headers: ResponseHeaders = {};
  for (const [name, value] of Object.entries(response.headers)) {
    const lower = name.toLowerCase();
    if ((lower === 'location' || lower === 'content-location') && typeof value === 'string') {
      const m = /^(https?:\/\/[^/]+)(.*)$/s.exec(value);
      if (m && (m[2] as string).startsWith(from)) {
        headers[name] = `${m[1]}${to}${(m[2] as string).slice(from.length)}`;
        changed = true;
        continue;
      }
    }
    headers[name] = value;
  }
  return changed ? { ...response, headers } : response;
}
