import { randomUUID } from 'node:crypto';
import { bool, type ConfigOf, list, num, type Schema } from '../common/config.ts';
import { containerSyncSignature, validateSyncTo } from '../common/container-sync-realms.ts';
import { Daemon } from '../common/daemon.ts';
import { type BackendClient, type BackendNode, type BackendResponse, backendPath } from '../common/http/backend-client.ts';
import { pyQuote } from '../common/py-quote.ts';
import { Timestamp } from '../common/timestamp.ts';
import { CONTAINER_DATADIR, type ContainerDatadir } from '../container/backend.ts';
import type { ObjectRow } from '../common/db/object-row.ts';
import { objectRing } from '../ring/ring-set.ts';
import { boundedBackend } from './bounded-backend.ts';
import { directNewestObject } from './direct-client.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { devicesWithDatadir, type LocalDb, localDbs } from './local-dbs.ts';
import type { StorageNodeContext } from './node-context.ts';

export const containerSyncSchema = {
  interval: num(300, { min: 0, doc: 'seconds between the starts of two passes' }),
  container_time: num(60, { min: 0, doc: 'most seconds spent on one container in a pass' }),
  conn_timeout: num(5, { min: 0, doc: 'seconds to wait for the other cluster to answer' }),
  allowed_sync_hosts: list(['127.0.0.1'], 'hosts a full-URL X-Container-Sync-To may name'),
  sync_versioned: bool(false, 'also sync containers with object versioning on (Swift skips them)'),
} as const satisfies Schema;

/** Response headers of a local GET that are not sent on to the other cluster. */
const NOT_SENT = /^(date|last-modified|content-length|x-backend-.*|accept-ranges|x-trans-id|x-openstack-request-id|connection|keep-alive|transfer-encoding|content-range)$/;

/**
 * Container sync (Swift's `container-sync` daemon): a container with `X-Container-Sync-To`
 * and `X-Container-Sync-Key` has its object PUTs and DELETEs sent to the other container
 * (another cluster's, through its proxy), signed with the realm's key
 * (`X-Container-Sync-Auth`, `common/container-sync-realms.ts`), or carrying the key itself
 * for a full URL. Each primary of the container takes part, as in Swift:
 *
 * 1. Rows after `x_container_sync_point1` are this node's when the first 4 bytes of the
 *    object's hash, modulo the replica count, are its place among the primaries; it sends
 *    those, and moves point 1 past every row (its own or not).
 * 2. Rows between `x_container_sync_point2` and point 1 (the rows the other primaries should
 *    have sent) are sent by every primary on a later pass, in case they could not; an object
 *    the other side already has as new is not sent again (one HEAD). Point 2 stops at the
 *    first row that failed, so it is tried again.
 *
 * A PUT sends the newest local copy (every primary asked, as `X-Newest`) with its metadata
 * and `X-Timestamp`; a DELETE sends a delete at the tombstone's time (404 and 409 from the
 * other side are fine). `container_time` bounds the time spent on one container per pass.
 */
export class ContainerSync extends Daemon {
  readonly name = 'container-sync';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof containerSyncSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof containerSyncSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: 'container-sync' }) });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const source = { devices: this.ctx.devices, mountCheck: this.ctx.mountCheck, datadirName: CONTAINER_DATADIR, dbs: this.ctx.containerDbs, logger: this.logger };
    const devices = await devicesWithDatadir(source);
    const backend = boundedBackend(this.ctx.backend, { timeoutMs: this.config.conn_timeout * 1000, ...(signal ? { signal } : {}) });
    await forEachPaced(localDbs(source, devices), { concurrency: 1, perSecond: 0, clock: this.clock, signal }, async (db) => {
      try {
        await this.syncContainer(db, backend);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.count('failures');
        this.logger.error('error syncing container', { device: db.device, hash: db.hash, err });
      }
    });
  }

  /** Swift's `container_sync` for one database. */
  private async syncContainer(db: LocalDb<ContainerDatadir>, backend: BackendClient): Promise<void> {
    const broker = db.datadir.broker(db.hash);
    const state = await broker.getState();
    if (!state || state.deleted) return;
    const { info, metadata } = state;
    const { nodes } = this.ctx.rings.container.getNodes(info.account, info.container);
    const ordinal = nodes.findIndex((n) => n.ip === this.ctx.bindIp && n.port === this.ctx.ports.container && n.device === db.device);
    if (ordinal === -1) return; // a handoff copy: its primaries sync
    const syncTo = metadata['X-Container-Sync-To']?.[0] ?? '';
    const userKey = metadata['X-Container-Sync-Key']?.[0] ?? '';
    if (syncTo === '' || userKey === '') {
      this.count('skips');
      return;
    }
    if (!this.config.sync_versioned && (metadata['X-Container-Sysmeta-Versions-Container']?.[0] ?? '') !== '') {
      this.count('skips');
      this.logger.warn('skipping a container with object versioning', { account: info.account, container: info.container });
      return;
    }
    const target = validateSyncTo(syncTo, this.config.allowed_sync_hosts, this.ctx.realms);
    if ('error' in target || 'none' in target) {
      this.count('failures');
      if ('error' in target) this.logger.info('bad X-Container-Sync-To', { account: info.account, container: info.container, error: target.error });
      return;
    }
    const remote: Remote = { endpoint: new URL(target.endpoint), userKey, ...(target.realm && target.realmKey ? { realm: target.realm, realmKey: target.realmKey } : {}) };
    const stopAt = this.clock.monotonic() + this.config.container_time * 1000;
    let point1 = info.x_container_sync_point1;
    let point2 = info.x_container_sync_point2;
    // Stage 1: every row the other primaries were to send, once more.
    let retryFrom: number | undefined;
    while (this.clock.monotonic() < stopAt && point2 < point1) {
      const [row] = await broker.getItemsSince(point2, 1);
      if (!row || row.ROWID > point1) break;
      if (!(await this.syncRow(backend, row, remote, info.account, info.container, info.storage_policy_index)) && retryFrom === undefined) retryFrom = point2;
      point2 = row.ROWID;
      await broker.setXContainerSyncPoints(undefined, point2);
    }
    if (retryFrom !== undefined) await broker.setXContainerSyncPoints(undefined, retryFrom);
    // Stage 2: this node's share of the new rows.
    while (this.clock.monotonic() < stopAt) {
      const [row] = await broker.getItemsSince(point1, 1);
      if (!row) break;
      if (shareOf(this.ctx.hashPath.hash(info.account, info.container, row.name), nodes.length) === ordinal) {
        await this.syncRow(backend, row, remote, info.account, info.container, info.storage_policy_index);
      }
      point1 = row.ROWID;
      await broker.setXContainerSyncPoints(point1, undefined);
    }
    this.count('syncs');
  }

  /** Swift's `container_sync_row`: sends one row's change; true when the other side has it. */
  private async syncRow(backend: BackendClient, row: ObjectRow, remote: Remote, account: string, container: string, policyIndex: number): Promise<boolean> {
    try {
      if (row.deleted) {
        const res = await this.toRemote(backend, remote, row.name, 'DELETE', { 'X-Timestamp': Timestamp.parse(row.created_at).internal });
        await res.body.dump();
        if (res.status !== 404 && res.status !== 409 && (res.status < 200 || res.status > 299)) throw new RemoteError(res.status);
        this.count('deletes');
        return true;
      }
      const changed = Timestamp.parse(row.meta_timestamp);
      if (await this.remoteHas(backend, remote, row.name, changed)) return true;
      const names = [account, container, row.name] as const;
      const ring = objectRing(this.ctx.rings, policyIndex);
      const newest = await directNewestObject(backend, ring, policyIndex, names);
      if (!newest || newest.status < 200 || newest.status > 299 || newest.timestamp.compare(changed) < 0) throw new Error(`no local copy of /${names.join('/')} as new as its row`);
      const local = await backend.request(newest.node, { method: 'GET', path: backendPath(newest.node.device, ring.getPart(...names), ...names), headers: { 'X-Backend-Storage-Policy-Index': String(policyIndex) } });
      if (local.status !== 200) {
        await local.body.dump();
        throw new Error(`local GET answered ${local.status}`);
      }
      const res = await this.toRemote(backend, remote, row.name, 'PUT', { ...sentHeaders(local), 'Content-Length': local.headers['content-length'] ?? '0' }, local.body);
      await res.body.dump();
      if (res.status < 200 || res.status > 299) throw new RemoteError(res.status);
      this.count('puts');
      this.count('bytes', row.size);
      return true;
    } catch (err) {
      this.count('failures');
      const where = { from: `${account}/${container}`, to: remote.endpoint.href, object: row.name };
      if (err instanceof RemoteError && err.status === 401) this.logger.info('unauthorized by the other cluster', where);
      else if (err instanceof RemoteError && err.status === 404) this.logger.info('not found on the other cluster', where);
      else this.logger.warn('error syncing an object', { ...where, err });
      return false;
    }
  }

  /** Swift's `_object_in_remote_container`: the other side has the object at least as new. */
  private async remoteHas(backend: BackendClient, remote: Remote, name: string, timestamp: Timestamp): Promise<boolean> {
    const res = await this.toRemote(backend, remote, name, 'HEAD', { 'X-Timestamp': timestamp.internal });
    await res.body.dump();
    if (res.status === 404) return false;
    if (res.status < 200 || res.status > 299) throw new RemoteError(res.status);
    const theirs = res.headers['x-timestamp'];
    return theirs !== undefined && timestamp.compare(Timestamp.parse(theirs)) <= 0;
  }

  /** A request for one object of the other container, with the realm's signature or the key. */
  private toRemote(backend: BackendClient, remote: Remote, name: string, method: string, headers: Record<string, string>, body?: BackendResponse['body']): Promise<BackendResponse> {
    const path = `${remote.endpoint.pathname.replace(/\/+$/, '')}/${pyQuote(name)}`;
    const out: Record<string, string> = { ...headers, 'User-Agent': `container-sync ${process.pid}` };
    if (remote.realm && remote.realmKey) {
      const nonce = randomUUID().replace(/-/g, '');
      const timestamp = headers['X-Timestamp'] ?? headers['x-timestamp'] ?? '0';
      out['X-Container-Sync-Auth'] = `${remote.realm} ${nonce} ${containerSyncSignature(method, path, timestamp, nonce, remote.realmKey, remote.userKey)}`;
    } else {
      out['X-Container-Sync-Key'] = remote.userKey;
    }
    const https = remote.endpoint.protocol === 'https:';
    const node: BackendNode = { ip: remote.endpoint.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(remote.endpoint.port || (https ? 443 : 80)), scheme: https ? 'https' : 'http' };
    return backend.request(node, { method, path, headers: out, ...(body ? { body } : {}), timeoutMs: this.config.conn_timeout * 1000 });
  }
}

/** Where a container syncs to. */
interface Remote {
  readonly endpoint: URL;
  readonly userKey: string;
  readonly realm?: string;
  readonly realmKey?: string;
}

class RemoteError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the other cluster answered ${status}`);
    this.status = status;
  }
}

/** Which primary sends a row first: the hash's first 4 bytes (big-endian) modulo the primaries. */
export function shareOf(hashHex: string, primaries: number): number {
  return Number.parseInt(hashHex.slice(0, 8), 16) % Math.max(1, primaries);
}

/** The object's headers of a local GET, to store on the other side (its X-Timestamp included). */
function sentHeaders(res: BackendResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (!NOT_SENT.test(name)) out[name] = value;
  if (out['etag'] !== undefined) out['etag'] = out['etag'].replace(/^"(.*)"$/, '$1');
  return out;
}

