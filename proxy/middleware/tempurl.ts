import { type ConfigOf, defaultConfig, list, type Schema } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { httpDate } from '../../common/http/http-date.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import type { ProxyContext } from '../context.ts';
import type { AuthorizeRequest, Middleware } from '../request.ts';
import type { Capabilities } from './info.ts';
import { ipInNetwork, parseIpNetwork } from './ip-network.ts';
import { isSuccess } from './subresponse.ts';
import { ALLOWED_DIGESTS, DEPRECATED_DIGESTS, dispositionFormat, normalizeExpires, parseSignature, sameSignature, tempUrlHmac } from './tempurl-signature.ts';
import { percentDecode, utf8OrUndefined } from './url-quote.ts';

/** TempURL settings, with Swift 2.30's defaults. */
export interface TempUrlOptions {
  readonly methods: readonly string[];
  readonly allowedDigests: readonly string[];
  /** Request headers removed from a TempURL request (`*` at the end: a prefix). */
  readonly incomingRemoveHeaders: readonly string[];
  readonly incomingAllowHeaders: readonly string[];
  /** Response headers removed from a TempURL answer (`*` at the end: a prefix). */
  readonly outgoingRemoveHeaders: readonly string[];
  readonly outgoingAllowHeaders: readonly string[];
}

/** The `[tempurl]` section (Swift's `[filter:tempurl]`), with Swift 2.30's defaults. */
export const tempurlSchema = {
  methods: list(['GET', 'HEAD', 'PUT', 'POST', 'DELETE'], 'methods a TempURL may allow'),
  allowed_digests: list(ALLOWED_DIGESTS, 'signature digests accepted (sha1 sha256 sha512)'),
  incoming_remove_headers: list(['x-timestamp'], 'request headers removed (`*` at the end: a prefix)'),
  incoming_allow_headers: list([], 'exceptions to incoming_remove_headers'),
  outgoing_remove_headers: list(['x-object-meta-*'], 'response headers removed (`*` at the end: a prefix)'),
  outgoing_allow_headers: list(['x-object-meta-public-*'], 'exceptions to outgoing_remove_headers'),
} as const satisfies Schema;

/** The options for a `[tempurl]` section. */
export function tempUrlOptions(c: ConfigOf<typeof tempurlSchema>): TempUrlOptions {
  return Object.freeze({
    methods: c.methods.map((m) => m.toUpperCase()),
    allowedDigests: c.allowed_digests,
    incomingRemoveHeaders: c.incoming_remove_headers.map((h) => h.toLowerCase()),
    incomingAllowHeaders: c.incoming_allow_headers.map((h) => h.toLowerCase()),
    outgoingRemoveHeaders: c.outgoing_remove_headers.map((h) => h.toLowerCase()),
    outgoingAllowHeaders: c.outgoing_allow_headers.map((h) => h.toLowerCase()),
  });
}

/** Swift 2.30's `[filter:tempurl]` defaults. */
export const DEFAULT_TEMPURL_OPTIONS: TempUrlOptions = tempUrlOptions(defaultConfig({ tempurl: tempurlSchema }).tempurl);

/**
 * Headers a TempURL may not send with a write: they would point the object at data the URL
 * gives no access to (a DLO manifest over another container, a symlink).
 */
const DISALLOWED_INCOMING = ['x-object-manifest', 'x-symlink-target'];

/** A header-name pattern list (`name` or `prefix*`) as a matcher. */
function matcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')).map((p) => p.toLowerCase()));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1).toLowerCase());
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

/** `temp-url-key` and `temp-url-key-2` of account or container metadata, as key bytes (FormPost signs with them too). */
export function tempUrlKeysOf(meta: Readonly<Record<string, string>>): Buffer[] {
  const keys: Buffer[] = [];
  for (const [name, value] of Object.entries(meta)) {
    // Metadata values are header bytes (latin-1 strings): the key is those bytes.
    if (name === 'temp-url-key' || name === 'temp-url-key-2') keys.push(Buffer.from(value, 'latin1'));
  }
  return keys;
}

/** The account, container and object of `/v1/<a>/<c>/<o>` as bytes and text; undefined otherwise. */
function objectPathOf(path: string): { account: string; container: string; object: string; bytes: Buffer } | undefined {
  const m = /^\/v1\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return undefined;
  const [account, container, object] = [m[1], m[2], m[3]].map((s) => utf8OrUndefined(percentDecode(Buffer.from(s as string, 'latin1'))));
  if (account === undefined || container === undefined || object === undefined || object.replace(/^\/+|\/+$/g, '') === '') return undefined;
  return { account, container, object, bytes: percentDecode(Buffer.from(path, 'latin1')) };
}

function basename(name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * Swift's `tempurl` middleware, before auth: a request with `temp_url_sig` and
 * `temp_url_expires` (Unix seconds or `YYYY-MM-DDThh:mm:ssZ`) is let in without a token when
 * the signature is the HMAC (sha1, sha256 or sha512; hex or `<digest>:<base64>`) of
 * `method\nexpires\n/v1/<account>/<container>/<object>` under one of the account's or the
 * container's `Temp-URL-Key`/`Temp-URL-Key-2`. Variants: `temp_url_prefix` signs
 * `prefix:/v1/<a>/<c>/<prefix>` for every object under it; `temp_url_ip_range` signs
 * `ip=<range>\n...` and only admits clients in that range. A HEAD is admitted by a HEAD, GET,
 * POST or PUT signature.
 *
 * An admitted request loses its own auth headers and is authorized by the key's scope, as in
 * Swift: an account key admits subrequests (large-object segments, a copy's source) within
 * the account, a container key within the container. A scoped authorizer rather than a blanket
 * `env.authorized`, since that flag would follow subrequests anywhere (`X-Copy-From-Account`).
 * Its query string keeps only the TempURL parameters. GET and HEAD answers lose `X-Object-Meta-*`
 * (but `X-Object-Meta-Public-*`) and get `Content-Disposition` (`filename`, `inline`) and
 * `Expires`. Anything wrong (expired, bad signature, unknown digest, no key, wrong method,
 * address outside the range) is a 401.
 */
export function tempurl(ctx: ProxyContext, capabilities: Capabilities, options: TempUrlOptions = DEFAULT_TEMPURL_OPTIONS): Middleware {
  const allowed = options.allowedDigests.filter((d) => (ALLOWED_DIGESTS as readonly string[]).includes(d)).sort();
  const deprecated = allowed.filter((d) => (DEPRECATED_DIGESTS as readonly string[]).includes(d));
  capabilities['tempurl'] = {
    methods: [...options.methods],
    incoming_remove_headers: [...options.incomingRemoveHeaders],
    incoming_allow_headers: [...options.incomingAllowHeaders],
    outgoing_remove_headers: [...options.outgoingRemoveHeaders],
    outgoing_allow_headers: [...options.outgoingAllowHeaders],
    allowed_digests: allowed,
    ...(deprecated.length > 0 ? { deprecated_digests: deprecated } : {}),
  };
  const removeIncoming = matcher(options.incomingRemoveHeaders);
  const keepIncoming = matcher(options.incomingAllowHeaders);
  const removeOutgoing = matcher(options.outgoingRemoveHeaders);
  const keepOutgoing = matcher(options.outgoingAllowHeaders);

  return (next) => async (req) => {
    if (req.method === 'OPTIONS') return next(req);
    const sigParam = req.query.get('temp_url_sig');
    const expiresParam = req.query.get('temp_url_expires');
    const expires = normalizeExpires(expiresParam, ctx.clock.now() / 1000);
    if (sigParam === null && expires === undefined) return next(req);
    const invalid = (): HttpError => new HttpError(401, req.method === 'HEAD' ? undefined : '401 Unauthorized: Temp URL invalid\n', { 'Www-Authenticate': `Swift realm="${realmOf(req.path)}"` });
    if (!sigParam || !expires) throw invalid();
    const signature = parseSignature(sigParam);
    if (!signature || !allowed.includes(signature.digest)) throw invalid();
    const path = options.methods.includes(req.method) ? objectPathOf(req.path) : undefined;
    if (!path) throw invalid();
    const ipRange = req.query.get('temp_url_ip_range') ?? '';
    if (ipRange !== '') {
      const network = parseIpNetwork(ipRange);
      if (!network || !ipInNetwork(req.remoteAddress, network)) throw invalid();
    }
    const accountInfo = await ctx.info.account(path.account, req.env.transId);
    const containerInfo = await ctx.info.container(path.account, path.container, req.env.transId);
    const keys = [...tempUrlKeysOf(accountInfo.meta).map((key) => ({ key, scope: 'account' as const })), ...tempUrlKeysOf(containerInfo.meta).map((key) => ({ key, scope: 'container' as const }))];
    if (keys.length === 0) throw invalid();
    const prefix = req.query.get('temp_url_prefix');
    let signedPath: string | Buffer = path.bytes;
    if (prefix !== null) {
      if (!path.object.startsWith(prefix)) throw invalid();
      signedPath = `prefix:/v1/${path.account}/${path.container}/${prefix}`;
    }
    const methods = req.method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [req.method];
    let scope: 'account' | 'container' | undefined;
    for (const method of methods) {
      for (const { key, scope: keyScope } of keys) {
        const expected = tempUrlHmac({ method, expires, path: signedPath, ...(ipRange !== '' ? { ipRange } : {}) }, key, signature.digest);
        if (scope === undefined && sameSignature(signature.hex, expected)) scope = keyScope;
      }
    }
    if (scope === undefined) throw invalid();
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      for (const name of DISALLOWED_INCOMING) {
        if (req.headers[name] !== undefined) throw new HttpError(400, `The header '${name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())}' is not allowed in this tempurl`);
      }
    }
    for (const name of Object.keys(req.headers)) {
      if (!keepIncoming(name) && removeIncoming(name)) delete req.headers[name];
    }
    // The signature is the credential: a token sent along is neither checked nor used.
    delete req.headers['x-auth-token'];
    delete req.headers['x-storage-token'];
    const account = path.account;
    const container = path.container;
    req.env.authorize = async (request: AuthorizeRequest) =>
      request.account === account && (scope === 'account' || request.container === container) ? { owner: false } : { denied: new HttpError(401) };
    const query = new URLSearchParams({ temp_url_sig: signature.hex, temp_url_expires: expiresParam ?? '' });
    if (prefix !== null) query.set('temp_url_prefix', prefix);
    const filename = req.query.get('filename');
    if (filename) query.set('filename', filename);
    const inline = req.query.has('inline');
    const response = await next({ ...req, query });

    const headers: ResponseHeaders = {};
    let existingDisposition: string | undefined;
    for (const [k, v] of Object.entries(response.headers ?? {})) {
      const name = k.toLowerCase();
      if (!keepOutgoing(name) && removeOutgoing(name)) continue;
      if ((req.method === 'GET' || req.method === 'HEAD') && isSuccess(response.status) && name === 'content-disposition') {
        existingDisposition = String(v);
        continue;
      }
      headers[k] = v;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && isSuccess(response.status)) {
      let disposition: string;
      if (inline) disposition = filename ? dispositionFormat('inline', filename) : 'inline';
      else if (filename) disposition = dispositionFormat('attachment', filename);
      else disposition = existingDisposition ?? dispositionFormat('attachment', basename(path.object));
      headers['Content-Disposition'] = disposition.replace(/\n/g, '%0A');
      headers['Expires'] = httpDate(expires);
    }
    return { ...response, headers };
  };
}

/** The realm of a 401 (Swift's `www_authenticate`): the account of the path, or `unknown`. */
function realmOf(path: string): string {
  const account = /^\/[^/]+\/([^/]+)/.exec(path)?.[1];
  return account === undefined || account === 'v1.0' || account === 'auth' ? 'unknown' : account;
}

