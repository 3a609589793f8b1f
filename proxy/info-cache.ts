import type { Clock } from '../common/clock.ts';
import type { Ring } from '../ring/ring.ts';
import { type BackendDeps, isReadSource, readFromNodes } from './backend-requests.ts';

/** What the proxy knows of an account (Swift's `get_account_info`). */
export interface AccountInfo {
  readonly status: number;
  readonly containerCount: number;
  readonly objectCount: number;
  readonly bytes: number;
  /** `X-Account-Meta-*` by lower-case suffix (e.g. `temp-url-key`). */
  readonly meta: Readonly<Record<string, string>>;
  readonly sysmeta: Readonly<Record<string, string>>;
}

/** What the proxy knows of a container (Swift's `get_container_info`). */
export interface ContainerInfo {
  readonly status: number;
  readonly objectCount: number;
  readonly bytes: number;
  readonly read?: string;
  readonly write?: string;
  /** `X-Container-Sync-Key`: what container-sync requests into this container must prove they know. */
  readonly syncKey?: string;
  readonly policyIndex: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly sysmeta: Readonly<Record<string, string>>;
  /** `X-Versions-Location` as the container server keeps it (its `allow_versions`). */
  readonly versions?: string;
  /** `X-Container-Sync-To`. */
  readonly syncTo?: string;
}

interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

const MAX_ENTRIES = 10_000;

/**
 * The other proxy processes serving the same clients (workers on one port). Swift's proxies
 * share one memcache, so a write through one is seen by all at once; here each process keeps
 * its own cache and tells the others what a write changed.
 */
export interface InfoPeers {
  /** Has every other process `forget` this account or container; resolves once they have. */
  tell(account: string, container?: string): Promise<void>;
}

/**
 * Account and container info from HEADs to their servers, kept for a short while
 * (`recheck_*_existence`). Only answers that exist are kept, so a container made through
 * another proxy is seen at once; writes through this proxy drop the entry.
 */
export class InfoCache {
  private readonly deps: BackendDeps;
  private readonly rings: { readonly account: Ring; readonly container: Ring };
  private readonly clock: Clock;
  private readonly accountTtlMs: number;
  private readonly containerTtlMs: number;
  private readonly entries = new Map<string, Entry<AccountInfo | ContainerInfo>>();

  private readonly peers: InfoPeers | undefined;

  constructor(deps: BackendDeps, rings: { account: Ring; container: Ring }, ttl: { accountSeconds: number; containerSeconds: number }, peers?: InfoPeers) {
    this.deps = deps;
    this.peers = peers;
    this.rings = rings;
    this.clock = deps.clock;
    this.accountTtlMs = ttl.accountSeconds * 1000;
    this.containerTtlMs = ttl.containerSeconds * 1000;
  }

  /**
   * `fresh` reads past the cache (and refreshes it): for facts another proxy worker may have
   * just changed, like ACLs (Swift's workers share memcache; ours keep their own caches).
   */
  async account(account: string, transId: string, options: { fresh?: boolean } = {}): Promise<AccountInfo> {
    const key = `a/${account}`;
    const hit = options.fresh ? undefined : this.fresh(key);
    if (hit) return hit as AccountInfo;
    const { status, headers } = await this.head(this.rings.account, [account], transId);
    const info: AccountInfo = {
      status,
      containerCount: Number(headers['x-account-container-count'] ?? 0),
      objectCount: Number(headers['x-account-object-count'] ?? 0),
      bytes: Number(headers['x-account-bytes-used'] ?? 0),
      meta: prefixed(headers, 'x-account-meta-'),
      sysmeta: prefixed(headers, 'x-account-sysmeta-'),
    };
    if (status >= 200 && status < 300) this.store(key, info, this.accountTtlMs);
    return info;
  }

  async container(account: string, container: string, transId: string, options: { fresh?: boolean } = {}): Promise<ContainerInfo> {
    const key = `c/${account}/${container}`;
    const hit = options.fresh ? undefined : this.fresh(key);
    if (hit) return hit as ContainerInfo;
    const { status, headers } = await this.head(this.rings.container, [account, container], transId);
    const info: ContainerInfo = {
      status,
      objectCount: Number(headers['x-container-object-count'] ?? 0),
      bytes: Number(headers['x-container-bytes-used'] ?? 0),
      ...(headers['x-container-read'] !== undefined ? { read: headers['x-container-read'] } : {}),
      ...(headers['x-container-write'] !== undefined ? { write: headers['x-container-write'] } : {}),
      ...(headers['x-container-sync-key'] !== undefined ? { syncKey: headers['x-container-sync-key'] } : {}),
      policyIndex: headers['x-backend-storage-policy-index'] ?? '0',
      ...(headers['x-versions-location'] ? { versions: headers['x-versions-location'] } : {}),
      ...(headers['x-container-sync-to'] ? { syncTo: headers['x-container-sync-to'] } : {}),
      meta: prefixed(headers, 'x-container-meta-'),
      sysmeta: prefixed(headers, 'x-container-sysmeta-'),
    };
    if (status >= 200 && status < 300) this.store(key, info, this.containerTtlMs);
    return info;
  }

  /**
   * After a write through this proxy: forgets an account (when `container` is not given) or
   * one container, here and in every peer, so an ACL just changed applies to the next request
   * whichever process takes it.
   */
  async invalidate(account: string, container?: string): Promise<void> {
    this.forget(account, container);
    await this.peers?.tell(account, container);
  }

  /** Forgets an account or one container here only (a peer's write). */
  forget(account: string, container?: string): void {
    if (container !== undefined) {
      this.entries.delete(`c/${account}/${container}`);
      return;
    }
    this.entries.delete(`a/${account}`);
  }

  private async head(ring: Ring, names: string[], transId: string): Promise<{ status: number; headers: Readonly<Record<string, string>> }> {
    const partition = ring.getPart(names[0] as string, names[1]);
    // Info of a hidden (reserved-name) container is asked for by middlewares only: always allowed, as in Swift.
    const result = await readFromNodes(this.deps, { ring, partition, names }, { method: 'HEAD', headers: { 'x-trans-id': transId, 'x-backend-allow-reserved-names': 'true' } }, { timestampHeader: 'x-put-timestamp' });
    if (isReadSource(result)) {
      await result.response.body.dump();
      return { status: result.response.status, headers: result.response.headers };
    }
    return { status: result.status, headers: result.headers };
  }

  private fresh(key: string): AccountInfo | ContainerInfo | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires < this.clock.monotonic()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private store(key: string, value: AccountInfo | ContainerInfo, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: this.clock.monotonic() + ttlMs });
  }
}

function prefixed(headers: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}
