import { createHash } from 'node:crypto';
import type { AccountBroker, AccountDatadir, AccountState } from '../account/backend.ts';
import { ACCOUNT_DATADIR } from '../account/backend.ts';
import type { ConfigOf } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { backendPath, type BackendClient } from '../common/http/backend-client.ts';
import { Timestamp } from '../common/timestamp.ts';
import type { Device } from '../ring/device.ts';
import { objectRing } from '../ring/ring-set.ts';
import type { Ring } from '../ring/ring.ts';
import { boundedBackend } from './bounded-backend.ts';
import type { accountReaperSchema } from './db-daemon-config.ts';
import { forEachPaced } from '../common/for-each-paced.ts';
import { type LocalDb, localDbs, devicesWithDatadir, ringDevice } from './local-dbs.ts';
import type { StorageNodeContext } from './node-context.ts';

/** The containers listed per page, per account replica (Swift's `container_limit`). */
const CONTAINER_PAGE = 1000;

/** What one account's reaping did, for its log line and the warning. */
interface AccountTally {
  containers_deleted: number;
  containers_remaining: number;
  containers_possibly_remaining: number;
  objects_deleted: number;
  objects_remaining: number;
  objects_possibly_remaining: number;
}

type Outcome = 'deleted' | 'remaining' | 'possibly_remaining';

/**
 * The account reaper (Swift's `AccountReaper`): empties deleted accounts. A DELETE of an
 * account only marks its database deleted; this daemon then removes its data:
 *
 * 1. It looks at the account databases on this node's devices that are primaries for their
 *    account (handoffs are left to replication), deleted (`status` DELETED, or deleted after
 *    their last put), not yet empty, and deleted more than `delay_reaping` seconds ago.
 * 2. It lists the account's containers. The primaries share the work: each reaps the
 *    containers whose name's MD5, modulo the number of primaries, is its replica index.
 * 3. For each container, `concurrency` at once: it lists the objects from a container server
 *    and DELETEs each object on every object server of the object ring, with `X-Timestamp`
 *    now and the container replicas to update (`X-Container-Host` ...), as a proxy would.
 * 4. Then it DELETEs the container on each container server, each naming one account replica
 *    to update with `X-Account-Override-Deleted: yes` (the account is deleted). An object or
 *    container counts as deleted when more servers took the DELETE than refused it, remaining
 *    when none did, possibly remaining otherwise.
 *
 * Once its containers are gone the account is empty and the reaper leaves it; the account
 * replicator removes its database after `reclaim_age`. An account still not empty
 * `reap_warn_after` seconds after its deletion (plus `delay_reaping`) is logged as a warning.
 *
 * Counts per pass: `accounts`, `containers_deleted`, `containers_remaining`,
 * `containers_possibly_remaining`, `objects_deleted`, `objects_remaining`,
 * `objects_possibly_remaining`, `return_codes.<n>xx`.
 */
export class AccountReaper extends Daemon {
  readonly name = 'account-reaper';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof accountReaperSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof accountReaperSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const source = { devices: this.ctx.devices, mountCheck: this.ctx.mountCheck, datadirName: ACCOUNT_DATADIR, dbs: this.ctx.accountDbs, logger: this.logger };
    const devices = await devicesWithDatadir(source);
    const backend = boundedBackend(this.ctx.backend, { timeoutMs: this.config.node_timeout * 1000, ...(signal ? { signal } : {}) });
    // One account at a time, as Swift; the containers of each go `concurrency` at once.
    await forEachPaced(localDbs(source, devices), { concurrency: 1, perSecond: 0, clock: this.clock, signal }, async (db) => {
      try {
        await this.reapDb(db, backend, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.logger.error('error reaping account', { daemon: this.name, device: db.device, hash: db.hash, err });
      }
    });
  }

  /** Swift's `reap_device` for one database: is it ours to reap, and now? */
  private async reapDb(db: LocalDb<AccountDatadir>, backend: BackendClient, signal: AbortSignal | undefined): Promise<void> {
    const broker = db.datadir.broker(db.hash);
    const state = await broker.getState();
    if (!state?.statusDeleted || state.info.container_count === 0) return;
    const ring = this.ctx.rings.account;
    const self = ringDevice(ring, { bindIp: this.ctx.bindIp, port: this.ctx.ports.account }, db.device);
    if (!self) return;
    const { partition, nodes } = ring.getNodes(state.info.account);
    const shard = nodes.findIndex((n) => n.id === self.id);
    if (shard < 0) return;
    const deletedAt = Timestamp.parse(state.info.delete_timestamp).seconds;
    if (this.clock.now() / 1000 - deletedAt <= this.config.delay_reaping) return;
    await this.reapAccount(broker, state, partition, nodes, shard, backend, signal);
  }

  /** Swift's `reap_account`: this replica's share of the account's containers. */
  private async reapAccount(broker: AccountBroker, state: AccountState, partition: number, nodes: readonly Device[], shard: number, backend: BackendClient, signal: AbortSignal | undefined): Promise<void> {
    const account = state.info.account;
    const began = this.clock.now();
    this.count('accounts');
    this.logger.info('beginning pass on account', { daemon: this.name, account });
    const tally: AccountTally = { containers_deleted: 0, containers_remaining: 0, containers_possibly_remaining: 0, objects_deleted: 0, objects_remaining: 0, objects_possibly_remaining: 0 };
    let marker = '';
    for (;;) {
      signal?.throwIfAborted();
      // Hidden (reserved-name) containers, object versions' say, are the account's too.
      const page = await broker.listContainers({ limit: CONTAINER_PAGE * nodes.length, marker, allowReserved: true });
      const names = page.flatMap((e) => ('subdir' in e ? [] : [e.name]));
      if (names.length === 0) break;
      const mine = names.filter((name) => containerShard(name, nodes.length) === shard);
      await forEachPaced(mine, { concurrency: this.config.concurrency, perSecond: 0, clock: this.clock, signal }, async (container) => {
        try {
          const outcome = await this.reapContainer(account, partition, nodes, container, backend, tally, signal);
          tally[`containers_${outcome}`] += 1;
          this.count(`containers_${outcome}`);
        } catch (err) {
          if (signal?.aborted) throw err;
          tally.containers_remaining += 1;
          this.count('containers_remaining');
          this.logger.error('error reaping container', { daemon: this.name, account, container, err });
        }
      });
      marker = names.at(-1) as string;
    }
    this.logger.info('completed pass on account', { daemon: this.name, account, ms: this.clock.now() - began, ...tally });
    const deletedAt = Timestamp.parse(state.info.delete_timestamp).seconds * 1000;
    if (tally.containers_remaining > 0 && began - deletedAt >= (this.config.reap_warn_after + this.config.delay_reaping) * 1000) {
      this.logger.warn('account has not been reaped since its deletion', { daemon: this.name, account, deleted: new Date(deletedAt).toISOString() });
    }
  }

  /** Swift's `reap_container`: its objects, then the container itself on each of its servers. */
  private async reapContainer(account: string, accountPartition: number, accountNodes: readonly Device[], container: string, backend: BackendClient, tally: AccountTally, signal: AbortSignal | undefined): Promise<Outcome> {
    const { partition, nodes } = this.ctx.rings.container.getNodes(account, container);
    let marker = '';
    for (;;) {
      signal?.throwIfAborted();
      const listing = await this.listObjects(backend, nodes, partition, account, container, marker);
      if (!listing || listing.names.length === 0) break;
      await forEachPaced(listing.names, { concurrency: this.config.concurrency, perSecond: 0, clock: this.clock, signal }, async (obj) => {
        const outcome = await this.reapObject(account, container, partition, nodes, obj, listing.policyIndex, backend);
        tally[`objects_${outcome}`] += 1;
        this.count(`objects_${outcome}`);
      });
      marker = listing.names.at(-1) as string;
    }
    const timestamp = Timestamp.fromMillis(this.clock.now()).internal;
    const pairs = [...accountNodes];
    const statuses = await Promise.all(
      nodes.map((node) => {
        const anode = pairs.pop();
        const headers: Record<string, string> = { 'X-Timestamp': timestamp, 'X-Account-Override-Deleted': 'yes', 'User-Agent': `account-reaper ${process.pid}` };
        if (anode) {
          headers['X-Account-Host'] = `${anode.ip}:${anode.port}`;
          headers['X-Account-Partition'] = String(accountPartition);
          headers['X-Account-Device'] = anode.device;
        }
        return this.send(backend, node, { method: 'DELETE', path: backendPath(node.device, partition, account, container), headers });
      }),
    );
    return outcome(statuses);
  }

  /**
   * A page of the container's objects, from the first container server (last primary first,
   * as Swift) that answers; undefined when none does.
   */
  private async listObjects(backend: BackendClient, nodes: readonly Device[], partition: number, account: string, container: string, marker: string): Promise<{ names: string[]; policyIndex: number } | undefined> {
    for (const node of [...nodes].reverse()) {
      try {
        const res = await backend.request({ ip: node.ip, port: node.port }, {
          method: 'GET',
          path: backendPath(node.device, partition, account, container),
          query: `format=json&marker=${encodeURIComponent(marker)}`,
          headers: { 'User-Agent': `account-reaper ${process.pid}`, 'X-Backend-Allow-Reserved-Names': 'true' },
        });
        this.count(`return_codes.${Math.floor(res.status / 100)}xx`);
        if (res.status === 204) {
          await res.body.dump();
          return { names: [], policyIndex: policyOf(res.headers) };
        }
        if (res.status !== 200) {
          await res.body.dump();
          continue;
        }
        const entries = (await res.body.json()) as { name?: unknown }[];
        return { names: entries.flatMap((e) => (typeof e.name === 'string' ? [e.name] : [])), policyIndex: policyOf(res.headers) };
      } catch (err) {
        this.logger.warn('could not list container', { daemon: this.name, account, container, node: `${node.ip}:${node.port}/${node.device}`, err });
      }
    }
    return undefined;
  }

  /** Swift's `reap_object`: DELETE on every object server, each naming a container replica. */
  private async reapObject(account: string, container: string, containerPartition: number, containerNodes: readonly Device[], obj: string, policyIndex: number, backend: BackendClient): Promise<Outcome> {
    let ring: Ring;
    try {
      ring = objectRing(this.ctx.rings, policyIndex);
    } catch {
      this.logger.error('no object ring for the container\'s storage policy', { daemon: this.name, account, container, policyIndex });
      return 'remaining';
    }
    const { partition, nodes } = ring.getNodes(account, container, obj);
    const timestamp = Timestamp.fromMillis(this.clock.now()).internal;
    const statuses = await Promise.all(
      nodes.map((node, i) => {
        const cnode = containerNodes[i % Math.max(1, containerNodes.length)];
        const headers: Record<string, string> = { 'X-Timestamp': timestamp, 'X-Backend-Storage-Policy-Index': String(policyIndex), 'User-Agent': `account-reaper ${process.pid}` };
        if (cnode) {
          headers['X-Container-Host'] = `${cnode.ip}:${cnode.port}`;
          headers['X-Container-Partition'] = String(containerPartition);
          headers['X-Container-Device'] = cnode.device;
        }
        return this.send(backend, node, { method: 'DELETE', path: backendPath(node.device, partition, account, container, obj), headers });
      }),
    );
    return outcome(statuses);
  }

  /** One request; its status, or 0 when the server did not answer. */
  private async send(backend: BackendClient, node: Device, request: { method: string; path: string; headers: Record<string, string> }): Promise<number> {
    try {
      const res = await backend.request({ ip: node.ip, port: node.port }, request);
      await res.body.dump();
      this.count(`return_codes.${Math.floor(res.status / 100)}xx`);
      return res.status;
    } catch (err) {
      this.logger.warn('reaper request failed', { daemon: this.name, method: request.method, path: request.path, node: `${node.ip}:${node.port}`, err });
      return 0;
    }
  }
}

/** Which account replica reaps a container: MD5 of its name, modulo the replica count. */
export function containerShard(container: string, replicas: number): number {
  return Number(BigInt(`0x${createHash('md5').update(container, 'utf8').digest('hex')}`) % BigInt(Math.max(1, replicas)));
}

function outcome(statuses: readonly number[]): Outcome {
  const successes = statuses.filter((s) => s >= 200 && s <= 299).length;
  const failures = statuses.length - successes;
  if (successes > failures) return 'deleted';
  return successes === 0 ? 'remaining' : 'possibly_remaining';
}

function policyOf(headers: Readonly<Record<string, string>>): number {
  const raw = headers['x-backend-storage-policy-index'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}
