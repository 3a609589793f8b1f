import { type BackendClient, backendPath } from '../common/http/backend-client.ts';
import { deleteObjectRow, type ObjectRow, putObjectRow } from '../common/db/object-row.ts';
import type { AsyncUpdate } from './async-pending.ts';

/** A container replica to tell about an object write. */
export interface ContainerTarget {
  readonly ip: string;
  readonly port: number;
  readonly device: string;
  readonly partition: string;
}

/** Rows in one UPDATE at most (a few hundred bytes each). */
const MAX_BATCH = 1024;

interface Waiting {
  readonly update: AsyncUpdate;
  readonly transId: string | undefined;
  readonly done: (failure: string | undefined) => void;
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
  private readonly queues = new Map<string, Queue>();

  constructor(deps: { backend: BackendClient; timeoutMs: number }) {
    this.backend = deps.backend;
    this.timeoutMs = deps.timeoutMs;
  }

  /** Resolves with undefined once `target` took the update, or with why it did not. */
  send(target: ContainerTarget, update: AsyncUpdate, transId?: string): Promise<string | undefined> {
    const policy = update.headers['x-backend-storage-policy-index'] ?? '';
    const key = `${target.ip}:${target.port}/${target.device}/${target.partition}/${update.account}/${update.container}/${policy}`;
    return new Promise((done) => {
      const queued = this.queues.get(key);
      if (queued) {
        queued.waiting.push({ update, transId, done });
        return;
      }
      const queue: Queue = { target, waiting: [] };
      this.queues.set(key, queue);
      void this.run(key, queue, [{ update, transId, done }]);
    });
  }

  private async run(key: string, queue: Queue, first: Waiting[]): Promise<void> {
    for (let batch = first; batch.length > 0; batch = queue.waiting.splice(0, MAX_BATCH)) {
      const failure = await this.request(queue.target, batch);
      for (const w of batch) w.done(failure);
    }
    this.queues.delete(key);
  }

  private async request(target: ContainerTarget, batch: readonly Waiting[]): Promise<string | undefined> {
    const first = batch[0] as Waiting;
    const { update } = first;
    const common = { 'user-agent': `object-server ${process.pid}`, ...(first.transId ? { 'x-trans-id': first.transId } : {}) };
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
      return res.status >= 200 && res.status < 300 ? undefined : `status ${res.status}`;
    } catch (err) {
      return (err as Error).message;
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

/** Timestamps in Swift's internal form sort as text. */
function newestTimestamp(batch: readonly Waiting[]): string {
  let newest = '';
  for (const w of batch) {
    const ts = w.update.headers['x-timestamp'] ?? '';
    if (ts > newest) newest = ts;
  }
  return newest;
}
