import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import type { Middleware } from '../request.ts';

/** What the cluster offers, by middleware name: `swift`, `tempauth`, `slo`, `bulk_delete`, ... */
export type Capabilities = Record<string, Record<string, unknown>>;

/** The proxy's `/info` settings (Swift's `[proxy-server]` keys of the same names). */
export interface InfoOptions {
  readonly exposeInfo: boolean;
  /** Key of signed requests that also see the `admin` section; empty: none are accepted. */
  readonly adminKey: string;
  /** Dotted paths (`swift.valid_api_versions`, `tempurl`) left out of every answer. */
  readonly disallowedSections: readonly string[];
}

/** Which signatures a method accepts: a HEAD may be signed for HEAD or GET. */
const SIGNED_METHODS: Readonly<Record<string, readonly string[]>> = { GET: ['GET'], HEAD: ['HEAD', 'GET'] };

/**
 * `/info` (Swift's `InfoController`): the capabilities every part registered, with their
 * limits, so clients know what they may send (swiftclient asks before bulk deletes and SLO
 * uploads), less the disallowed sections. `?swiftinfo_sig=<hmac>&swiftinfo_expires=<unix time>`
 * signed with `admin_key` (HMAC-SHA1 hex of `GET\n<expires>\n/info`) adds the `admin` section;
 * a bad or expired signature is 401, any signature without an `admin_key` 403. A request with
 * `Origin` gets CORS headers; `OPTIONS` answers the methods.
 */
export function info(capabilities: Capabilities, options: InfoOptions, clock: Clock): Middleware {
  const unauthorized = (): HttpError => new HttpError(401, undefined, { 'Www-Authenticate': 'Swift realm="unknown"' });
  return (next) => async (req) => {
    if (req.path !== '/info') return next(req);
    if (req.method === 'OPTIONS') return { status: 200, headers: { Allow: 'HEAD, GET, OPTIONS', 'Content-Type': 'text/html; charset=UTF-8' }, body: '' };
    const signedMethods = SIGNED_METHODS[req.method];
    if (!signedMethods) throw new HttpError(405, undefined, { Allow: 'GET, HEAD, OPTIONS' });
    if (!options.exposeInfo) throw new HttpError(403);
    const sig = req.query.get('swiftinfo_sig') ?? '';
    const expiresParam = req.query.get('swiftinfo_expires') ?? '';
    const admin = sig !== '' || expiresParam !== '';
    if (admin) {
      if (options.adminKey === '') throw new HttpError(403);
      if (!/^\s*[+-]?\d+\s*$/.test(expiresParam)) throw unauthorized();
      const expires = Number(expiresParam);
      if (expires < clock.now() / 1000) throw unauthorized();
      const valid = signedMethods.some((method) => sameText(createHmac('sha1', options.adminKey).update(`${method}\n${expires}\n/info`).digest('hex'), sig));
      if (!valid) throw unauthorized();
    }
    const shown = withoutSections(capabilities, options.disallowedSections);
    if (admin) shown['admin'] = { disallowed_sections: [...options.disallowedSections] };
    const headers: ResponseHeaders = { 'Content-Type': 'application/json; charset=UTF-8' };
    const origin = req.headers['origin'];
    if (origin !== undefined) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Expose-Headers'] = 'x-trans-id';
    }
    return { status: 200, headers, body: req.method === 'HEAD' ? null : JSON.stringify(shown) };
  };
}

/** Swift's `get_swift_info(disallowed_sections=...)`: a copy without each dotted path. */
function withoutSections(capabilities: Capabilities, disallowed: readonly string[]): Capabilities {
  const copy = structuredClone(capabilities);
  for (const section of disallowed) {
    const parts = section.split('.');
    let parent: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) {
      const child: unknown = parent?.[part];
      parent = typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : undefined;
    }
    if (parent) delete parent[parts.at(-1) as string];
  }
  return copy;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
