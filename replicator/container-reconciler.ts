import { type ConfigOf, int, num, type Schema } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { type BackendClient, type BackendResponse, backendPath } from '../common/http/backend-client.ts';
import { spreadUpdateHeaders } from '../common/http/update-headers.ts';
import { MISPLACED_OBJECTS_ACCOUNT, type MisplacedEntry, parseMisplacedEntry, reconcilerContainer } from '../common/misplaced-queue.ts';
import { quorumSize } from '../common/quorum-size.ts';
import { Timestamp } from '../common/timestamp.ts';
import { comparePolicyInfo, type PolicyInfo } from '../container/policy-index.ts';
import { objectRing } from '../ring/ring-set.ts';
import type { Ring } from '../ring/ring.ts';
import { boundedBackend } from './bounded-backend.ts';
import { type DirectDeps, directListing, directNewestObject, directToAll } from './direct-client.ts';
import type { StorageNodeContext } from './node-context.ts';

export const containerReconcilerSchema = {
  interval: num(30, { min: 0, doc: 'seconds between the starts of two passes' }),
  concurrency: int(1, { min: 1, doc: 'queue rows worked at once' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a storage node' }),
  reclaim_age: num(604_800, { min: 0, doc: 'seconds after which a misplaced object that cannot be found is given up (logged) and its row dropped' }),
} as const satisfies Schema;

/** Response headers that describe the response or the stored file, not the object: not copied. */
const NOT_COPIED = /^(content-length|last-modified|x-timestamp|x-backend-.*|accept-ranges|date|x-trans-id|x-openstack-request-id|connection|keep-alive|transfer-encoding|content-range)$/;

/**
 * The container reconciler (Swift's `ContainerReconciler`): moves objects that were written
 * in another storage policy than their container's to the right one. The container replicator
 * queues such rows in `.misplaced_objects` (`common/misplaced-queue.ts`); each queue container
 * is worked by the node holding its first replica (as the expirer shares its queue). For a
 * row:
 *
 * 1. The container's policy is asked of its replicas; a majority must answer, and the best
 *    claim wins (`comparePolicyInfo`). Already right: the row goes.
 * 2. The right policy already has the object at or after the row's time: only the misplaced
 *    copy is removed (a tombstone one offset later than the row, in the wrong policy).
 * 3. A misplaced DELETE whose object is gone from the wrong policy: a tombstone goes to the
 *    right policy (two offsets later), then step 2's.
 * 4. Otherwise the newest copy in the wrong policy is copied into the right one, to every
 *    primary, two offsets later than it (with its metadata and ETag, and container updates,
 *    so the listing shows it), then step 2's. A copy that cannot be found is tried again next
 *    pass, and given up after `reclaim_age`.
 *
 * The row is removed from the queue only when its object is handled.
 */
export class ContainerReconciler extends Daemon {
  readonly name = 'container-reconciler';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof containerReconcilerSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof containerReconcilerSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: 'container-reconciler' }) });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const backend = boundedBackend(this.ctx.backend, { timeoutMs: this.config.node_timeout * 1000, ...(signal ? { signal } : {}) });
    const direct: DirectDeps = { backend, timeoutMs: this.config.node_timeout * 1000 };
    // This hour's container first: it may not be in the account's listing yet (Swift's order).
    const current = reconcilerContainer(Timestamp.fromMillis(this.clock.now()));
    const listed = (await directListing(direct, this.ctx.rings.account, [MISPLACED_OBJECTS_ACCOUNT])).map((c) => String(c['name']));
    const queues = [current, ...listed.filter((q) => q !== current).reverse()];
    for (const queue of queues) {
      if (signal?.aborted) return;
      if (!this.owns(queue)) continue;
      const rows = await directListing(direct, this.ctx.rings.container, [MISPLACED_OBJECTS_ACCOUNT, queue]);
      let next = 0;
      await Promise.all(
        Array.from({ length: this.config.concurrency }, async () => {
          while (next < rows.length && !signal?.aborted) {
            const raw = rows[next++] as Record<string, unknown>;
            await this.work(backend, direct, queue, raw);
          }
        }),
      );
      // An old, empty queue container goes (Swift's `_iter_objects`).
      if (rows.length === 0 && Number(queue) < this.clock.now() / 1000 - this.config.reclaim_age) await this.removeQueue(direct, queue);
    }
  }

  private async work(backend: BackendClient, direct: DirectDeps, queue: string, raw: Record<string, unknown>): Promise<void> {
    let entry: MisplacedEntry;
    try {
      entry = parseMisplacedEntry(raw);
    } catch (err) {
      this.count('invalid_record');
      this.logger.error('invalid queue record', { queue, name: raw['name'], err });
      return;
    }
    let done = false;
    try {
      done = await this.reconcile(backend, entry);
    } catch (err) {
      this.logger.error('could not reconcile a misplaced object', { path: `/${entry.account}/${entry.container}/${entry.object}`, policy: entry.policyIndex, err });
    }
    if (!done) {
      this.count('retry');
      return;
    }
    this.count('success');
    // Swift's `pop_queue`: just after both the row's time and the misplaced write's.
    const recorded = listedTimestamp(raw['last_modified']);
    const latest = recorded.compare(entry.timestamp) > 0 ? recorded : entry.timestamp;
    const ring = this.ctx.rings.container;
    await directToAll(direct, ring, ring.getPart(MISPLACED_OBJECTS_ACCOUNT, queue), [MISPLACED_OBJECTS_ACCOUNT, queue, String(raw['name'])], 'DELETE', { 'X-Timestamp': latest.withOffset(latest.offset + 1).internal });
  }

  /** Swift's `_reconcile_object`; true when the row is handled. */
  private async reconcile(backend: BackendClient, entry: MisplacedEntry): Promise<boolean> {
    const path = `/${entry.account}/${entry.container}/${entry.object}`;
    const right = await this.containerPolicy(backend, entry.account, entry.container);
    if (right === undefined) {
      this.count('unavailable_container');
      return this.expired(entry);
    }
    if (right === entry.policyIndex) {
      this.count('noop_object');
      return true;
    }
    let source: Ring;
    let dest: Ring;
    try {
      source = objectRing(this.ctx.rings, entry.policyIndex);
      dest = objectRing(this.ctx.rings, right);
    } catch {
      this.logger.error('no object ring for a policy of a misplaced object', { path, from: entry.policyIndex, to: right });
      return false;
    }
    const names = [entry.account, entry.container, entry.object] as const;
    const there = await directNewestObject(backend, dest, right, names);
    if (there === undefined) {
      this.count('unavailable_destination');
      return false;
    }
    if (there.timestamp.compare(entry.timestamp) >= 0) {
      this.count('found_object');
      return this.throwTombstones(backend, source, entry, entry.timestamp);
    }
    this.count('misplaced_object');
    const found = await directNewestObject(backend, source, entry.policyIndex, names);
    if (found && found.status === 404 && entry.op === 'DELETE') {
      const at = entry.timestamp.withOffset(entry.timestamp.offset + 2);
      const statuses = await this.toPrimaries(backend, dest, right, entry, async () => ({ method: 'DELETE', headers: { 'X-Timestamp': at.internal } }));
      if (!quorum(statuses)) {
        this.count('delete_failed');
        return false;
      }
      this.count('delete_success');
      return this.throwTombstones(backend, source, entry, entry.timestamp);
    }
    if (!found || found.status < 200 || found.status > 299 || found.timestamp.compare(entry.timestamp) < 0) {
      this.count('unavailable_source');
      this.logger.warn('misplaced object not available in its policy', { path, policy: entry.policyIndex, status: found?.status });
      return this.expired(entry);
    }
    const base = found.timestamp.compare(entry.timestamp) > 0 ? found.timestamp : entry.timestamp;
    const at = base.withOffset(base.offset + 2);
    const statuses = await this.toPrimaries(backend, dest, right, entry, async () => {
      // A stream of its own for each primary: nothing is buffered, whatever the size.
      const res = await backend.request(found.node, { method: 'GET', path: backendPath(found.node.device, source.getPart(...names), ...names), headers: { 'X-Backend-Storage-Policy-Index': String(entry.policyIndex) } });
      if (res.status !== 200) {
        await res.body.dump();
        throw new Error(`source GET answered ${res.status}`);
      }
      return { method: 'PUT', headers: { ...copiedHeaders(res), 'X-Timestamp': at.internal, 'Content-Length': res.headers['content-length'] ?? '0' }, body: res.body };
    });
    if (!quorum(statuses)) {
      this.count('copy_failed');
      this.logger.warn('could not copy a misplaced object to its policy', { path, from: entry.policyIndex, to: right, statuses: statuses.join(',') });
      return false;
    }
    this.count('copy_success');
    return this.throwTombstones(backend, source, entry, entry.timestamp);
  }

  /** A row whose object cannot be found is dropped once it is older than `reclaim_age` (Swift's lost_source). */
  private expired(entry: MisplacedEntry): boolean {
    if (entry.timestamp.seconds >= this.clock.now() / 1000 - this.config.reclaim_age) return false;
    this.count('lost_source');
    this.logger.error('misplaced object lost: not found for longer than reclaim_age', { path: `/${entry.account}/${entry.container}/${entry.object}`, policy: entry.policyIndex });
    return true;
  }

  /** Swift's `throw_tombstones`: the misplaced copy is deleted one offset after it (2xx or 404 everywhere needed). */
  private async throwTombstones(backend: BackendClient, source: Ring, entry: MisplacedEntry, timestamp: Timestamp): Promise<boolean> {
    const at = timestamp.withOffset(timestamp.offset + 1);
    const statuses = await this.toPrimaries(backend, source, entry.policyIndex, entry, async () => ({ method: 'DELETE', headers: { 'X-Timestamp': at.internal } }));
    const ok = statuses.filter((s) => (s >= 200 && s < 300) || s === 404 || s === 409).length >= quorumSize(statuses.length);
    this.count(ok ? 'cleanup_success' : 'cleanup_failed');
    return ok;
  }

  /**
   * One request to each primary of the object in a policy, with the container update headers
   * (so the container's rows of that policy follow), as the proxy sends them.
   */
  private async toPrimaries(backend: BackendClient, ring: Ring, policyIndex: number, entry: MisplacedEntry, build: () => Promise<{ method: string; headers: Record<string, string>; body?: BackendResponse['body'] }>): Promise<number[]> {
    const names = [entry.account, entry.container, entry.object] as const;
    const { partition, nodes } = ring.getNodes(...names);
    const containerRing = this.ctx.rings.container;
    const containerPart = containerRing.getPart(entry.account, entry.container);
    const updates = spreadUpdateHeaders(nodes.length, 'Container', containerPart, containerRing.getPartNodes(containerPart));
    return Promise.all(
      nodes.map(async (node, i) => {
        try {
          const request = await build();
          const res = await backend.request(node, {
            method: request.method,
            path: backendPath(node.device, partition, ...names),
            headers: { ...request.headers, ...updates[i], 'X-Backend-Storage-Policy-Index': String(policyIndex), 'User-Agent': `container-reconciler ${process.pid}` },
            ...(request.body ? { body: request.body } : {}),
          });
          await res.body.dump();
          return res.status;
        } catch (err) {
          this.logger.warn('reconciler request failed', { node: `${node.ip}:${node.port}/${node.device}`, err });
          return 0;
        }
      }),
    );
  }

  /**
   * Swift's `direct_get_container_policy_index`: the policy the container's replicas settle on
   * (a majority must answer; replicas with no database do not get a say), or undefined.
   */
  private async containerPolicy(backend: BackendClient, account: string, container: string): Promise<number | undefined> {
    const ring = this.ctx.rings.container;
    const partition = ring.getPart(account, container);
    const nodes = ring.getPartNodes(partition);
    const answers = await Promise.all(
      nodes.map(async (node) => {
        try {
          const res = await backend.request(node, { method: 'HEAD', path: backendPath(node.device, partition, account, container) });
          await res.body.dump();
          return res.status === 404 || (res.status >= 200 && res.status < 300) ? res.headers : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const answered = answers.filter((h): h is Readonly<Record<string, string>> => h !== undefined);
    if (answered.length < quorumSize(nodes.length)) return undefined;
    const infos = answered.map(policyInfo).filter((i) => i.put_timestamp !== ZERO);
    if (infos.length === 0) return undefined;
    infos.sort(comparePolicyInfo);
    return (infos[0] as PolicyInfo).storage_policy_index;
  }

  /** Deletes an old, emptied queue container, telling the account. */
  private async removeQueue(direct: DirectDeps, queue: string): Promise<void> {
    const accountRing = this.ctx.rings.account;
    const accountPart = accountRing.getPart(MISPLACED_OBJECTS_ACCOUNT);
    const ring = this.ctx.rings.container;
    await directToAll(direct, ring, ring.getPart(MISPLACED_OBJECTS_ACCOUNT, queue), [MISPLACED_OBJECTS_ACCOUNT, queue], 'DELETE', { 'X-Timestamp': Timestamp.fromMillis(this.clock.now()).internal }, spreadUpdateHeaders(ring.replicas, 'Account', accountPart, accountRing.getPartNodes(accountPart)));
  }

  /** This node works a queue container when it holds the container's first replica. */
  private owns(queue: string): boolean {
    const [first] = this.ctx.rings.container.getNodes(MISPLACED_OBJECTS_ACCOUNT, queue).nodes;
    return first !== undefined && first.ip === this.ctx.bindIp && first.port === this.ctx.ports.container;
  }
}

const ZERO = new Timestamp(0).internal;

/** Swift's `translate_container_headers_to_info`. */
function policyInfo(headers: Readonly<Record<string, string>>): PolicyInfo {
  const raw = headers['x-backend-storage-policy-index'] ?? '0';
  return {
    storage_policy_index: /^\d+$/.test(raw) ? Number(raw) : 0,
    put_timestamp: headers['x-backend-put-timestamp'] ?? ZERO,
    delete_timestamp: headers['x-backend-delete-timestamp'] ?? ZERO,
    status_changed_at: headers['x-backend-status-changed-at'] ?? ZERO,
    count: 0,
  };
}

/** Whether a majority of primaries took a write (2xx, or 409: it already had something newer). */
function quorum(statuses: readonly number[]): boolean {
  return statuses.filter((s) => (s >= 200 && s < 300) || s === 409).length >= quorumSize(statuses.length);
}

/** The object's headers of a GET, to store with the copy. */
function copiedHeaders(res: BackendResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (!NOT_COPIED.test(name)) out[name] = value;
  return out;
}

/** A listing's `last_modified` (`2023-11-14T22:13:20.123450`) as a timestamp (Swift's `last_modified_date_to_timestamp`). */
function listedTimestamp(value: unknown): Timestamp {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(String(value ?? ''));
  const seconds = m ? Date.parse(`${m[1]}Z`) / 1000 : Number.NaN;
  if (!m || !Number.isFinite(seconds)) return new Timestamp(0);
  return new Timestamp(seconds * 100_000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 5)));
}
