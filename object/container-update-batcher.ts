import { type BackendClient, backendPath } from '../common/http/backend-client.ts';
import { deleteObjectRow, type ObjectRow, putObjectRow } from '../common/db/object-row.ts';
import { DB_SYNC_HEADER, type DbSyncReport, PENDING_KEPT_HEADER, parseDbSync } from '../common/db/sync-generations.ts';
import type { AsyncUpdate } from './async-pending.ts';
import type { ContainerSyncWatch } from './container-sync-watch.ts';

/** A container replica to tell about an object write. */
export interface ContainerTarget {
  readonly ip: string;
  readonly port: number;
  readonly device: string;
  readonly partition: string;
}

/** Rows in one UPDATE at most (a few hundred bytes each). */
const MAX_BATCH = 1024;

/** How a container replica took an update. */
export interface UpdateOutcome {
  /** Why it did not; undefined when it did. */
  readonly failure?: string;
  /** It took it unsynced (a kept update): the report to wait on (`ContainerSyncWatch`). */
  readonly sync?: DbSyncReport;
}

interface Waiting {
  readonly update: AsyncUpdate;
  readonly transId: string | undefined;
  /** Its object server keeps its async pending until the row is reported synced. */
  readonly kept: boolean;
  readonly done: (outcome: UpdateOutcome) => void;
}

interface Queue {
  readonly target: ContainerTarget;
  readonly waiting: Waiting[];
}

/**
 * Sends container updates, one request in flight per container replica. An update to a
 * container with nothing in flight goes at once, alone, as Swift sends it (`PUT` or `DELETE`
 * with `X-Size`, `X-Etag`...). Updates that arrive while one is in flight wait for it and then
 * go together as one Swift `UPDATE` (a JSON list of rows): under a burst of small PUTs into one
 * container, its servers take one request and one commit for many objects instead of one
 * each. Nothing is acknowledged before its container server answered: each caller learns
 * the outcome of the request that carried its update (an update that waited may take up to
 * twice the timeout).
 */
export class ContainerUpdateBatcher {
  private readonly backend: BackendClient;
  private readonly timeoutMs: number;
  private readonly watch: ContainerSyncWatch | undefined;
  private readonly queues = new Map<string, Queue>();

  /** Without a `watch`, no update taken unsynced is ever known synced (`whenSynced` says false). */
  constructor(deps: { backend: BackendClient; timeoutMs: number; watch?: ContainerSyncWatch }) {
    this.backend = deps.backend;
    this.timeoutMs = deps.timeoutMs;
    this.watch = deps.watch;
  }

  /**
   * Resolves true once `target` reported the generation of an update it took unsynced as
   * synced; false when it restarted meanwhile or did not say in time (send it again, synced).
   */
  whenSynced(target: ContainerTarget, report: DbSyncReport): Promise<boolean> {
    return this.watch ? this.watch.whenSynced(deviceOf(target), report) : Promise.resolve(false);
  }

  /** Stops waiting for reports (the waiting updates are left to the updater). */
  close(): void {
    this.watch?.close();
  }

  /** Resolves with undefined once `target` took the update (durably), or with why it did not. */
  async send(target: ContainerTarget, update: AsyncUpdate, transId?: string): Promise<string | undefined> {
    return (await this.enqueue(target, update, transId, false)).failure;
  }

  /**
   * As `send`, for an update whose async pending the caller keeps until the row is durable:
   * the container may take it unsynced, and then says which generation to wait for.
   */
  sendKept(target: ContainerTarget, update: AsyncUpdate, transId?: string): Promise<UpdateOutcome> {
    return this.enqueue(target, update, transId, true);
  }

  private enqueue(target: ContainerTarget, update: AsyncUpdate, transId: string | undefined, kept: boolean): Promise<UpdateOutcome> {
    const policy = update.headers['x-backend-storage-policy-index'] ?? '';
    const key = `${target.ip}:${target.port}/${target.device}/${target.partition}/${update.account}/${update.container}/${policy}`;
    return new Promise((done) => {
      const queued = this.queues.get(key);
      if (queued) {
        queued.waiting.push({ update, transId, kept, done });
        return;
      }
      const queue: Queue = { target, waiting: [] };
      this.queues.set(key, queue);
      void this.run(key, queue, [{ update, transId, kept, done }]);
    });
  }

  private async run(key: string, queue: Queue, first: Waiting[]): Promise<void> {
    for (let batch = first; batch.length > 0; batch = queue.waiting.splice(0, MAX_BATCH)) {
      const outcome = await this.request(queue.target, batch);
      for (const w of batch) w.done(outcome);
    }
    this.queues.delete(key);
  }

  private async request(target: ContainerTarget, batch: readonly Waiting[]): Promise<UpdateOutcome> {
    const first = batch[0] as Waiting;
    const { update } = first;
    // Unsynced only if every update of the request is kept by its object server.
    const kept = batch.every((w) => w.kept);
    const common = {
      'user-agent': `object-server ${process.pid}`,
      ...(first.transId ? { 'x-trans-id': first.transId } : {}),
      ...(kept ? { [PENDING_KEPT_HEADER]: 'yes' } : {}),
    };
    try {
      const res =
        batch.length === 1
          ? await this.backend.request(target, {
              method: update.op,
              path: backendPath(target.device, target.partition, update.account, update.container, update.obj),
              headers: { ...update.headers, ...common },
              timeoutMs: this.timeoutMs,
            })
          : await this.backend.request(target, {
              method: 'UPDATE',
              path: backendPath(target.device, target.partition, update.account, update.container),
              headers: {
                ...common,
                'content-type': 'application/json',
                'x-timestamp': newestTimestamp(batch),
                ...(update.headers['x-backend-storage-policy-index'] !== undefined ? { 'x-backend-storage-policy-index': update.headers['x-backend-storage-policy-index'] } : {}),
              },
              body: JSON.stringify(batch.map((w) => objectRow(w.update))),
              timeoutMs: this.timeoutMs,
            });
      await res.body.dump();
      if (res.status < 200 || res.status >= 300) return { failure: `status ${res.status}` };
      const sync = kept ? parseDbSync(res.headers[DB_SYNC_HEADER]) : undefined;
      if (!sync) return {};
      // Every answer moves the watermark the updates before it wait on.
      this.watch?.observe(deviceOf(target), sync);
      return { sync };
    } catch (err) {
      return { failure: (err as Error).message };
    }
  }
}

/** An update as the row Swift's `merge_items` takes (what the container makes of PUT and DELETE). */
export function objectRow(update: AsyncUpdate): ObjectRow {
  const h = update.headers;
  const createdAt = h['x-timestamp'] ?? '';
  const policy = Number(h['x-backend-storage-policy-index'] ?? 0);
  if (update.op === 'DELETE') return deleteObjectRow(update.obj, createdAt, policy);
  return putObjectRow({
    name: update.obj,
    createdAt,
    size: Number(h['x-size']),
    contentType: h['x-content-type'] ?? '',
    etag: h['x-etag'] ?? '',
    storagePolicyIndex: policy,
    ...(h['x-content-type-timestamp'] !== undefined ? { ctypeTimestamp: h['x-content-type-timestamp'] } : {}),
    ...(h['x-meta-timestamp'] !== undefined ? { metaTimestamp: h['x-meta-timestamp'] } : {}),
  });
}

/** A container device: what a generation is counted in. */
function deviceOf(target: ContainerTarget): string {
  return `${target.ip}:${target.port}/${target.device}`;
}

/** Timestamps in Swift's internal form sort as text. */
function newestTimestamp(batch: readonly Waiting[]): string {
  let newest = '';
  for (const w of batch) {
    const ts = w.update.headers['x-timestamp'] ?? '';
    if (ts > newest) newest = ts;
  }
  return newest;
}
