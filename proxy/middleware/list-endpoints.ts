import { type ConfigOf, type Schema, str } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { splitPath } from '../../common/http/backend-path.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware } from '../request.ts';
import { percentDecode, pyQuote } from './url-quote.ts';

/** The `[list-endpoints]` section (Swift's `[filter:list-endpoints]`); the rings are the proxy's. */
export const listEndpointsSchema = {
  list_endpoints_path: str('/endpoints/', { doc: 'where the endpoints of an account, container or object are listed', nonEmpty: true }),
} as const satisfies Schema;

const VERSIONS = [1, 2];
/** swob's default content type, which Swift's 400s here keep. */
const HTML = { 'Content-Type': 'text/html; charset=UTF-8' };

/** What `/endpoints/[v1|v2/]<account>[/<container>[/<object>]]` asks for. */
interface EndpointsQuery {
  readonly version: number;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
}

/**
 * Swift's `list_endpoints` middleware, for services inside the cluster that want data
 * locality (Hadoop and the like): `GET /endpoints/<account>[/<container>[/<object>]]` answers
 * the primaries' backend URLs (`http://<ip>:<port>/<device>/<partition>/<a>/<c>/<o>`) as a JSON
 * list; `/endpoints/v2/...` answers `{"endpoints": [...], "headers": {...}}`, the headers
 * naming the object's storage policy index. No auth, as in Swift: a proxy with this on must
 * not face untrusted clients. Swift registers nothing in `/info` for it; nor do we.
 */
export function listEndpoints(ctx: ProxyContext, config: ConfigOf<typeof listEndpointsSchema>): Middleware {
  const base = config.list_endpoints_path.endsWith('/') ? config.list_endpoints_path : `${config.list_endpoints_path}/`;
  return (next) => async (req) => {
    if (!req.path.startsWith(base)) return next(req);
    if (req.method !== 'GET') throw new HttpError(405, undefined, { Allow: 'GET' });
    const query = parseEndpointsPath(req.path.slice(base.length - 1));
    let policyIndex: string | undefined;
    let ring = ctx.rings.account;
    const names = [query.account];
    if (query.container !== undefined) {
      names.push(query.container);
      ring = ctx.rings.container;
    }
    if (query.object !== undefined) {
      names.push(query.object);
      policyIndex = (await ctx.info.container(query.account, query.container as string, req.env.transId)).policyIndex;
      ring = ctx.rings.object;
    }
    const { partition, nodes } = ring.getNodes(names[0] as string, names[1], names[2]);
    const suffix = names.map((name) => pyQuote(name)).join('/');
    const endpoints = nodes.map((node) => `http://${node.ip}:${node.port}/${node.device}/${partition}/${suffix}`);
    const list = `[${endpoints.map((e) => JSON.stringify(e)).join(', ')}]`;
    const body = query.version === 1 ? list : `{"endpoints": ${list}, "headers": {${policyIndex !== undefined ? `"X-Backend-Storage-Policy-Index": ${JSON.stringify(policyIndex)}` : ''}}}`;
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body };
  };
}

/**
 * Swift's `_parse_path`: an optional `v1`/`v2` (also `v1.0`, `v2.0`) first; a first segment
 * that looks like a version but is not one (`v3`) is a 400, unless it has a `_` (an account).
 * @throws {HttpError} 400 `No account specified` or `Unsupported version '<v>'`.
 */
export function parseEndpointsPath(path: string): EndpointsQuery {
  const noAccount = (): HttpError => new HttpError(400, 'No account specified', HTML);
  let first: string;
  let rest: string | undefined;
  try {
    [first, rest] = splitPath(path, 1, 2, true) as [string, string | undefined];
  } catch {
    throw noAccount();
  }
  let version = 1;
  const parsed = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(first.replace(/^v+/, '')) ? Number(first.replace(/^v+/, '')) : NaN;
  if (VERSIONS.includes(parsed)) {
    version = parsed;
    rest = rest ? `/${rest}` : '/';
  } else {
    if (first.startsWith('v') && !first.includes('_')) throw new HttpError(400, `Unsupported version '${first}'`, HTML);
    rest = path;
  }
  let parts: (string | undefined)[];
  try {
    parts = splitPath(rest, 1, 3, true);
  } catch {
    throw noAccount();
  }
  const [account, container, object] = parts.map((p) => (p === undefined ? undefined : percentDecode(Buffer.from(p, 'latin1')).toString('utf8')));
  return { version, account: account as string, ...(container ? { container } : {}), ...(object ? { object } : {}) };
}
