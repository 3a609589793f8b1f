import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Clock } from './clock.ts';
import { parseIni } from './config.ts';
import type { Logger } from './logger.ts';

/** One realm of `container-sync-realms.conf`: its keys and its clusters' endpoints (upper-case names). */
interface Realm {
  readonly key?: string;
  readonly key2?: string;
  readonly clusters: ReadonlyMap<string, string>;
}

/**
 * Swift's `container-sync-realms.conf` (in `swift_dir`), which every node and proxy of the
 * clusters that sync with each other shares: a section per realm, with the realm's secret
 * `key` (and `key2` while rotating it) and a `cluster_<name> = <endpoint>` per cluster. It is
 * read again when its mtime changes, checked at most every `mtime_check_interval` seconds
 * (`[DEFAULT]`, 300). Realm and cluster names are case-insensitive (kept upper-case).
 *
 * ```ini
 * [DEFAULT]
 * mtime_check_interval = 300
 *
 * [US]
 * key = 9ff3b71c849749dbaec4ccdd3cbab62b
 * cluster_dfw1 = http://dfw1.host/v1/
 * cluster_ord1 = http://ord1.host/v1/
 * ```
 */
export class ContainerSyncRealms {
  private readonly path: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private data: ReadonlyMap<string, Realm> = new Map();
  private mtimeMs = 0;
  private nextCheckMs = 0;
  private intervalMs = 300_000;

  constructor(path: string, deps: { clock: Clock; logger: Logger }) {
    this.path = path;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.reload();
  }

  /** Realm names. */
  realms(): string[] {
    return [...this.current().keys()];
  }

  key(realm: string): string | undefined {
    return this.current().get(realm.toUpperCase())?.key;
  }

  key2(realm: string): string | undefined {
    return this.current().get(realm.toUpperCase())?.key2;
  }

  /** A realm's cluster names. */
  clusters(realm: string): string[] {
    return [...(this.current().get(realm.toUpperCase())?.clusters.keys() ?? [])];
  }

  /** The endpoint (`http://host/v1/`) of a cluster of a realm. */
  endpoint(realm: string, cluster: string): string | undefined {
    return this.current().get(realm.toUpperCase())?.clusters.get(cluster.toUpperCase());
  }

  private current(): ReadonlyMap<string, Realm> {
    if (this.clock.monotonic() >= this.nextCheckMs) this.reload();
    return this.data;
  }

  private reload(): void {
    this.nextCheckMs = this.clock.monotonic() + this.intervalMs;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.error('could not read container-sync-realms.conf', { path: this.path, err });
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    this.mtimeMs = mtimeMs;
    let raw: ReturnType<typeof parseIni>;
    try {
      raw = parseIni(readFileSync(this.path, 'utf8'), this.path);
    } catch (err) {
      this.logger.error('could not load container-sync-realms.conf', { path: this.path, err });
      return;
    }
    const interval = raw['DEFAULT']?.['mtime_check_interval'];
    const seconds = interval === undefined ? 300 : Number(interval);
    if (Number.isFinite(seconds) && seconds >= 0) this.intervalMs = seconds * 1000;
    else this.logger.error('bad mtime_check_interval in container-sync-realms.conf', { path: this.path, value: interval });
    this.nextCheckMs = this.clock.monotonic() + this.intervalMs;
    const realms = new Map<string, Realm>();
    for (const [section, options] of Object.entries(raw)) {
      if (section === 'DEFAULT') continue;
      const clusters = new Map<string, string>();
      let key: string | undefined;
      let key2: string | undefined;
      for (const [option, value] of Object.entries(options)) {
        if (option === 'key') key = String(value);
        else if (option === 'key2') key2 = String(value);
        else if (option.startsWith('cluster_')) clusters.set(option.slice('cluster_'.length).toUpperCase(), String(value));
      }
      realms.set(section.toUpperCase(), { ...(key !== undefined ? { key } : {}), ...(key2 !== undefined ? { key2 } : {}), clusters });
    }
    this.data = realms;
  }
}

/**
 * The signature of a container-sync request (Swift's `get_sig`): hex HMAC-SHA1 under the
 * realm's key of `<method>\n<path>\n<x-timestamp>\n<nonce>\n<container's sync key>`, where the
 * path is URL-quoted as Swift quotes it.
 */
export function containerSyncSignature(method: string, path: string, xTimestamp: string, nonce: string, realmKey: string, userKey: string): string {
  return createHmac('sha1', realmKey).update(`${method}\n${path}\n${xTimestamp}\n${nonce}\n${userKey}`).digest('hex');
}

/** What an `X-Container-Sync-To` value says: nothing to do, an error, or where to sync (and through which realm). */
export type SyncTarget = { readonly error: string } | { readonly endpoint: string; readonly realm?: string; readonly realmKey?: string } | { readonly none: true };

/**
 * Swift's `validate_sync_to`: `//realm/cluster/account/container` through the realms file, or
 * a full `http(s)://host/...` URL whose host is in `allowedSyncHosts`. Errors are Swift's words.
 */
export function validateSyncTo(value: string, allowedSyncHosts: readonly string[], realms: ContainerSyncRealms | undefined): SyncTarget {
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed === '') return { none: true };
  if (trimmed.startsWith('//')) {
    if (!realms) return { none: true };
    const parts = trimmed.slice(2).split('/');
    if (parts.length !== 4) return { error: `Invalid X-Container-Sync-To format ${pyRepr(value)}` };
    const [realm, cluster, account, container] = parts as [string, string, string, string];
    const realmKey = realms.key(realm);
    if (!realmKey) return { error: `No realm key for ${pyRepr(realm)}` };
    const endpoint = realms.endpoint(realm, cluster);
    if (!endpoint) return { error: `No cluster endpoint for ${pyRepr(realm)} ${pyRepr(cluster)}` };
    return { endpoint: `${endpoint.replace(/\/+$/, '')}/${account}/${container}`, realm: realm.toUpperCase(), realmKey };
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase() ?? '';
  if (scheme !== 'http' && scheme !== 'https') return { error: `Invalid scheme ${pyRepr(scheme)} in X-Container-Sync-To, must be "//", "http", or "https".` };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: `Invalid host '' in X-Container-Sync-To` };
  }
  const afterHost = trimmed.slice(trimmed.indexOf('//') + 2);
  const rawPath = afterHost.includes('/') ? afterHost.slice(afterHost.indexOf('/')) : '';
  if (rawPath === '' || rawPath.startsWith('?') || rawPath.startsWith('#')) return { error: 'Path required in X-Container-Sync-To' };
  if (/[;?#]/.test(rawPath)) return { error: 'Params, queries, and fragments not allowed in X-Container-Sync-To' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowedSyncHosts.includes(host)) return { error: `Invalid host ${pyRepr(host)} in X-Container-Sync-To` };
  return { endpoint: trimmed };
}

/** Python's `repr` of a string, as Swift's messages show names. */
function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
