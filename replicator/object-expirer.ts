import { type ConfigOf, int, num, type Schema } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { EXPIRING_OBJECTS_ACCOUNT, parseExpirerEntry } from '../common/expirer-queue.ts';
import { spreadUpdateHeaders } from '../common/http/update-headers.ts';
import { Timestamp } from '../common/timestamp.ts';
import { quorumSize } from '../common/quorum-size.ts';
import { objectRing } from '../ring/ring-set.ts';
import type { Ring } from '../ring/ring.ts';
import { type DirectDeps, directContainerPolicy, directListing, directToAll } from './direct-client.ts';
import type { StorageNodeContext } from './node-context.ts';

export const objectExpirerSchema = {
  interval: num(30, { min: 0, doc: 'seconds between the starts of two passes' }),
  concurrency: int(4, { min: 1, doc: 'objects deleted at once' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a storage node' }),
} as const satisfies Schema;

/** Answers that mean an expired object needs nothing more: gone, already newer, or changed. */
const SETTLED = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 409 || status === 412;

/**
 * The object expirer (Swift's). Queue containers in `.expiring_objects` are named by time;
 * for each one that is due, the node holding its first container replica (so each queue is
 * worked once) deletes every object whose delete-at has passed: a DELETE to each object
 * replica with `X-If-Delete-At` (a newer write, or a changed expiry, is left alone) and the
 * delete-at as its timestamp, updating the object's listing on the way; then pops the queue
 * row, and removes a queue container once it is empty.
 */
export class ObjectExpirer extends Daemon {
  readonly name = 'object-expirer';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof objectExpirerSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof objectExpirerSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: 'object-expirer' }) });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const nowSeconds = this.clock.now() / 1000;
    const policies = new Map<string, Promise<number | undefined>>();
    const queues = await directListing(this.direct(), this.ctx.rings.account, [EXPIRING_OBJECTS_ACCOUNT]);
    for (const queue of queues.map((q) => String(q['name'])).sort()) {
      if (signal?.aborted) return;
      if (Number(queue) > nowSeconds) break; // named by time: the rest are not due
      if (!this.owns(queue)) continue;
      const rows = await directListing(this.direct(), this.ctx.rings.container, [EXPIRING_OBJECTS_ACCOUNT, queue]);
      let left = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: this.config.concurrency }, async () => {
          while (next < rows.length && !signal?.aborted) {
            const name = String((rows[next++] as Record<string, unknown>)['name']);
            if (!(await this.expire(queue, name, nowSeconds, policies))) left++;
          }
        }),
      );
      if (left === 0 && !signal?.aborted) await this.removeQueue(queue);
    }
  }

  /**
   * Handles one queue row; true when the row is gone (done, or not a row at all). `policies`
   * keeps each container's policy for the pass (one HEAD per container, not per object).
   */
  private async expire(queue: string, name: string, nowSeconds: number, policies: Map<string, Promise<number | undefined>>): Promise<boolean> {
    const row = parseExpirerEntry(name);
    if (row && row.deleteAt > nowSeconds) return false;
    const containerRing = this.ctx.rings.container;
    if (row) {
      const key = `${row.account}/${row.container}`;
      let lookup = policies.get(key);
      if (!lookup) policies.set(key, (lookup = directContainerPolicy(this.direct(), containerRing, row.account, row.container)));
      let policy: number | undefined;
      try {
        policy = await lookup;
      } catch (err) {
        policies.delete(key);
        this.logger.warn('container of an expiring object unavailable', { account: row.account, container: row.container, err });
        this.count('failures');
        return false;
      }
      // The container is gone, so is the object as far as clients can tell (the proxy answers 404).
      if (policy === undefined) return this.pop(queue, name);
      let ring: Ring;
      try {
        ring = objectRing(this.ctx.rings, policy);
      } catch {
        this.logger.error('no object ring for the container\'s storage policy', { account: row.account, container: row.container, policy });
        this.count('failures');
        return false;
      }
      const names = [row.account, row.container, row.object] as const;
      const containerPart = containerRing.getPart(row.account, row.container);
      const statuses = await directToAll(
        this.direct(),
        ring,
        ring.getPart(...names),
        names,
        'DELETE',
        { 'x-timestamp': Timestamp.parse(row.deleteAt).internal, 'x-if-delete-at': String(row.deleteAt), 'x-backend-storage-policy-index': String(policy), 'user-agent': `object-expirer ${process.pid}` },
        spreadUpdateHeaders(ring.replicas, 'Container', containerPart, containerRing.getPartNodes(containerPart)),
      );
      if (statuses.filter(SETTLED).length < quorumSize(statuses.length)) {
        this.count('failures');
        return false;
      }
      this.count('objects_expired');
    } else {
      this.count('bad_rows');
    }
    return this.pop(queue, name);
  }

  /** Removes a row from its queue container; true when a quorum of replicas did. */
  private async pop(queue: string, name: string): Promise<boolean> {
    const containerRing = this.ctx.rings.container;
    // The row lives in the queue container's partition (hashing the row's name too sent the pop
    // to other nodes, where it made stray queue databases and left the row in place).
    const popped = await directToAll(this.direct(), containerRing, containerRing.getPart(EXPIRING_OBJECTS_ACCOUNT, queue), [EXPIRING_OBJECTS_ACCOUNT, queue, name], 'DELETE', { 'x-timestamp': Timestamp.fromMillis(this.clock.now()).internal });
    const failed = popped.filter((status) => !(status >= 200 && status < 300) && status !== 404);
    if (failed.length > 0) {
      // Replication carries the row's deletion to a replica that missed it; without a quorum
      // the row stays and the next pass tries again (the object is already gone: harmless).
      this.logger.warn('queue row not removed everywhere', { queue, row: name, statuses: popped.join(',') });
      this.count('queue_pop_failures');
      if (popped.length - failed.length < quorumSize(popped.length)) return false;
    }
    return true;
  }

  /** Deletes an emptied queue container, telling the account. */
  private async removeQueue(queue: string): Promise<void> {
    const accountRing = this.ctx.rings.account;
    const accountPart = accountRing.getPart(EXPIRING_OBJECTS_ACCOUNT);
    const containerRing = this.ctx.rings.container;
    await directToAll(this.direct(), containerRing, containerRing.getPart(EXPIRING_OBJECTS_ACCOUNT, queue), [EXPIRING_OBJECTS_ACCOUNT, queue], 'DELETE', { 'x-timestamp': Timestamp.fromMillis(this.clock.now()).internal }, spreadUpdateHeaders(containerRing.replicas, 'Account', accountPart, accountRing.getPartNodes(accountPart)));
    this.count('queues_removed');
  }

  /** This node works a queue container when it holds the container's first replica. */
  private owns(queue: string): boolean {
    const [first] = this.ctx.rings.container.getNodes(EXPIRING_OBJECTS_ACCOUNT, queue).nodes;
    return first !== undefined && first.ip === this.ctx.bindIp && first.port === this.ctx.ports.container;
  }

  private direct(): DirectDeps {
    return { backend: this.ctx.backend, timeoutMs: this.config.node_timeout * 1000 };
  }
}
