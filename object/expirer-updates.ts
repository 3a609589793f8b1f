import type { HeaderBag } from '../common/constraints.ts';
import { EXPIRING_OBJECTS_ACCOUNT, expirerContainer, expirerEntry } from '../common/expirer-queue.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { Timestamp } from '../common/timestamp.ts';
import type { AsyncUpdate } from './async-pending.ts';
import { type ContainerUpdaterDeps, containerTargets, sendContainerUpdates } from './container-update.ts';
import type { ObjectLocation } from './diskfile/types.ts';

/** The ETag of nothing: queue rows are empty objects. */
const EMPTY_ETAG = 'd41d8cd98f00b204e9800998ecf8427e';

/**
 * Keeps the expirer's queue in step with an object's `X-Delete-At` (Swift's
 * `delete_at_update`): a new delete-at adds a row to the queue container the proxy named in
 * `X-Delete-At-*`; an old one (changed by a PUT or POST, or the object deleted) is removed
 * through an async pending, since nobody knows where its row's replicas are now (the object
 * updater finds them with the ring). A queue row that outlives its object is harmless: the
 * expirer's delete carries `X-If-Delete-At` and changes nothing.
 */
export async function updateExpirerQueue(
  deps: ContainerUpdaterDeps & { readonly hashPath: HashPath },
  change: { readonly before?: number; readonly after?: number },
  location: ObjectLocation,
  requestHeaders: HeaderBag,
  timestamp: Timestamp,
): Promise<void> {
  if (change.before === change.after) return;
  const { account, container, object } = location;
  const base = { 'x-timestamp': timestamp.internal, 'x-backend-storage-policy-index': '0' };
  if (change.after !== undefined) {
    const queue = requestHeaders['x-delete-at-container'] ?? expirerContainer(change.after, account, container, object, deps.hashPath);
    const update: AsyncUpdate = {
      op: 'PUT',
      account: EXPIRING_OBJECTS_ACCOUNT,
      container: queue,
      obj: expirerEntry(change.after, account, container, object),
      headers: { ...base, 'x-size': '0', 'x-content-type': 'text/plain', 'x-etag': EMPTY_ETAG },
    };
    await sendContainerUpdates(deps, update, containerTargets(requestHeaders, 'delete-at'), originOf(deps.hashPath, location, update, timestamp, requestHeaders));
  }
  if (change.before !== undefined) {
    const update: AsyncUpdate = {
      op: 'DELETE',
      account: EXPIRING_OBJECTS_ACCOUNT,
      container: expirerContainer(change.before, account, container, object, deps.hashPath),
      obj: expirerEntry(change.before, account, container, object),
      headers: base,
    };
    const origin = originOf(deps.hashPath, location, update, timestamp, requestHeaders);
    await deps.pendings.save(origin.device, origin.hash, origin.timestamp, update);
  }
}

/** Async pendings of queue rows are named by the row, not the object, so they never collide. */
function originOf(hashPath: HashPath, location: ObjectLocation, update: AsyncUpdate, timestamp: Timestamp, headers: HeaderBag): { device: string; hash: string; timestamp: string; transId?: string } {
  const transId = headers['x-trans-id'];
  return { device: location.device, hash: hashPath.hash(update.account, update.container, update.obj), timestamp: timestamp.internal, ...(transId ? { transId } : {}) };
}
