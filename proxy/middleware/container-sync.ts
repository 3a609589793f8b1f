import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { bool, type ConfigOf, type Schema, str } from '../../common/config.ts';
import { containerSyncSignature, ContainerSyncRealms } from '../../common/container-sync-realms.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { pyQuote } from '../../common/py-quote.ts';
import type { ProxyContext } from '../context.ts';
import { parseSwiftPath, type SwiftPath } from '../swift-path.ts';
import type { AuthorizeRequest, Middleware } from '../request.ts';
import type { Capabilities } from './info.ts';
import { percentDecode } from './url-quote.ts';

/** `[container_sync]` (Swift's `[filter:container_sync]`). */
export const containerSyncSchema = {
  allow_full_urls: bool(true, 'accept X-Container-Sync-To values that are full URLs (else only //realm/cluster/account/container)'),
  current: str('', { doc: 'this cluster as //REALM/CLUSTER, marked current in /info' }),
} as const satisfies Schema;

const INVALID_AUTH = 'X-Container-Sync-Auth header not valid; contact cluster operator for support.';

/**
 * Swift's `container_sync` middleware: the proxy's side of container sync.
 *
 * - `/info` lists the realms of `container-sync-realms.conf` (in `swift_dir`) and their
 *   clusters, this one marked `current` (read fresh on every `/info`).
 * - A container PUT/POST setting `X-Container-Sync-To` is refused when the container has
 *   object versioning, or when it is a full URL and `allow_full_urls` is off (400s, Swift's
 *   words). The container servers check the value itself.
 * - A request with `X-Container-Sync-Auth: <realm> <nonce> <sig>` (another cluster's
 *   container-sync daemon) is let in without a token when the signature is the realm key's
 *   (or `key2`'s) HMAC of method, path, `X-Timestamp`, nonce and the container's sync key;
 *   then it may touch that container only. Otherwise 401.
 *
 * Requests without these headers cost one or two header checks.
 */
export function containerSync(ctx: ProxyContext, capabilities: Capabilities, config: ConfigOf<typeof containerSyncSchema>): Middleware {
  const realms = new ContainerSyncRealms(join(ctx.config.swift_dir, 'container-sync-realms.conf'), { clock: ctx.clock, logger: ctx.logger });
  const [currentRealm, currentCluster] = config.current.replace(/^\/+|\/+$/g, '').toUpperCase().split('/');
  if (config.current !== '' && (!currentRealm || !currentCluster || config.current.replace(/^\/+|\/+$/g, '').split('/').length !== 2)) {
    ctx.logger.error('invalid current //REALM/CLUSTER', { current: config.current });
  }
  Object.defineProperty(capabilities, 'container_sync', {
    enumerable: true,
    configurable: true,
    get: () => ({ realms: realmsInfo(realms, currentRealm, currentCluster) }),
  });
  return (next) => async (req) => {
    const path = apiPath(req.path);
    if (!path) return next(req);
    const syncTo = req.headers['x-container-sync-to'];
    if (syncTo) {
      if ((req.method === 'PUT' || req.method === 'POST') && path.object === undefined) {
        const info = await ctx.info.container(path.account, path.container, req.env.transId);
        if ((info.sysmeta['versions-container'] ?? '') !== '') throw new HttpError(400, 'Cannot configure container sync on a container with object versioning configured.');
      }
      if (!config.allow_full_urls && !syncTo.startsWith('//')) {
        throw new HttpError(400, 'Full URLs are not allowed for X-Container-Sync-To values. Only realm values of the format //realm/cluster/account/container are allowed.\n');
      }
    }
    const auth = req.headers['x-container-sync-auth'];
    if (auth === undefined) return next(req);
    const denied = (): HttpError => new HttpError(401, INVALID_AUTH, { 'Content-Type': 'text/plain', 'Www-Authenticate': `SwiftContainerSync realm="${path.account}"` });
    const parts = auth.split(/\s+/).filter((p) => p !== '');
    if (parts.length !== 3) throw denied();
    const [realm, nonce, sig] = parts as [string, string, string];
    const key = realms.key(realm);
    if (!key) throw denied();
    const info = await ctx.info.container(path.account, path.container, req.env.transId);
    if (!info.syncKey) throw denied();
    // A gatekeeper that moves client X-Timestamps aside (Swift's) leaves this one for us.
    const inbound = req.headers['x-backend-inbound-x-timestamp'];
    if (inbound !== undefined) {
      req.headers['x-timestamp'] = inbound;
      delete req.headers['x-backend-inbound-x-timestamp'];
    }
    const signedPath = pyQuote(percentDecode(Buffer.from(req.path, 'latin1')));
    const timestamp = req.headers['x-timestamp'] ?? '0';
    const key2 = realms.key2(realm);
    const valid = [key, ...(key2 ? [key2] : [])].some((k) => sameText(sig, containerSyncSignature(req.method, signedPath, timestamp, nonce, k, info.syncKey as string)));
    if (!valid) throw denied();
    // Let in for this container only (as a TempURL's key is), whatever auth comes after.
    const { account, container } = path;
    req.env.authorize = async (request: AuthorizeRequest) => (request.account === account && request.container === container ? { owner: false } : { denied: new HttpError(401) });
    return next(req);
  };
}

/** `/v1/<account>/<container>[/<object>]` (Swift's `split_path(3, 4, True)` with a valid API version). */
function apiPath(raw: string): { account: string; container: string; object?: string } | undefined {
  let path: SwiftPath;
  try {
    path = parseSwiftPath(raw);
  } catch {
    return undefined;
  }
  if ((path.version !== 'v1' && path.version !== 'v1.0') || path.container === undefined) return undefined;
  return { account: path.account, container: path.container, ...(path.object !== undefined ? { object: path.object } : {}) };
}

/** `/info`'s `container_sync.realms`: realm → clusters (the current one marked). */
function realmsInfo(realms: ContainerSyncRealms, currentRealm: string | undefined, currentCluster: string | undefined): Record<string, { clusters: Record<string, { current?: true }> }> {
  const out: Record<string, { clusters: Record<string, { current?: true }> }> = {};
  for (const realm of realms.realms()) {
    const clusters = realms.clusters(realm);
    if (clusters.length === 0) continue;
    out[realm] = { clusters: Object.fromEntries(clusters.map((c) => [c, realm === currentRealm && c === currentCluster ? { current: true as const } : {}])) };
  }
  return out;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

